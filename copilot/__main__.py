"""``python -m copilot``: the ``lead-copilot`` command line."""

from copilot.cli import main

if __name__ == "__main__":
    main(prog_name="lead-copilot")
