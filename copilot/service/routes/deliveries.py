"""``/api/deliveries``: the webhook deliveries an operator looks after (admin only).

``GET /api/deliveries?state=failed`` lists the set-aside ones with their error;
``POST /api/deliveries/{id}/replay`` and ``POST /api/deliveries/replay`` put
them back in line for the background runner. Thin: each calls one
:class:`~copilot.service.deliveries.DeliveryQueue` method.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import Parameter, QueryParameter

from copilot.service.auth import Principal, provide_principal, require_admin

DeliveryState = Literal["failed", "retry", "rejected", "done"]


class DeliveriesController(Controller):
    """Set-aside webhook deliveries: list and replay."""

    path = "/api/deliveries"
    tags: ClassVar[list[str]] = ["webhooks"]
    dependencies: ClassVar[dict[str, Provide]] = {
        "principal": Provide(provide_principal, sync_to_thread=False)
    }

    @get("/", sync_to_thread=True)
    def list_deliveries(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        delivery_state: Annotated[DeliveryState, QueryParameter(name="state")] = "failed",
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """The deliveries in ``state`` (``failed``: set aside), newest first, with
        their error and the start of their body. 403 unless admin."""
        require_admin(principal)
        return request.app.state.service.delivery_queue().deliveries(delivery_state, limit)

    @post("/{delivery_id:int}/replay", sync_to_thread=True, status_code=200)
    def replay_one(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        delivery_id: Annotated[int, Parameter(ge=1, le=2**62)],
    ) -> dict[str, Any]:
        """Process a set-aside delivery again. 404 when no set-aside delivery has that id."""
        require_admin(principal)
        state = request.app.state.service
        replayed = state.delivery_queue().replay([delivery_id])
        if not replayed:
            raise NotFoundException(f"no set-aside delivery {delivery_id}")
        state.wake_runner()
        return {"replayed": replayed}

    @post("/replay", sync_to_thread=True, status_code=200)
    def replay_all(self, request: Request, principal: NamedDependency[Principal]) -> dict[str, Any]:
        """Process every set-aside delivery again."""
        require_admin(principal)
        state = request.app.state.service
        replayed = state.delivery_queue().replay()
        state.wake_runner()
        return {"replayed": replayed}
