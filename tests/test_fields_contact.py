"""Contact data in one message: e-mail, phone, name, company, city (es, pt, en)."""

from __future__ import annotations

import pytest

from copilot.engines.rules.contact_fields import (
    city_countries,
    find_cities,
    find_companies,
    find_emails,
    find_names,
    find_phones,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mi correo es laura.gomez@gmail.com", ["laura.gomez@gmail.com"]),
        ("Meu email é Bia.Doces@hotmail.com.br.", ["Bia.Doces@hotmail.com.br"]),
        ("email me at priya@northwind.io, thanks", ["priya@northwind.io"]),
        ("a@b.co y c+tag@d.org", ["a@b.co", "c+tag@d.org"]),
        ("escríbeme a pepe@localhost", []),
        ("sin correo @todos", []),
    ],
)
def test_emails(text: str, expected: list[str]) -> None:
    assert [f.value for f in find_emails(text)] == expected


@pytest.mark.parametrize(
    ("text", "regions", "expected"),
    [
        ("llámame al 310 456 7890", ("CO",), "+573104567890"),
        ("mi cel es 3001234567", ("CO",), "+573001234567"),
        ("me liga no (81) 98765-4321", ("BR", "CO"), "+5581987654321"),
        ("reach me at +1 305 714 2287", ("CO",), "+13057142287"),
        ("Llamadme al 612 345 678", ("ES", "CO"), "+34612345678"),
        ("marcame al +52 55 1234 5678", ("CO",), "+525512345678"),
        ("al 987 654 321 porfa", ("PE", "CO"), "+51987654321"),
    ],
)
def test_phones(text: str, regions: tuple[str, ...], expected: str) -> None:
    assert [f.value for f in find_phones(text, regions)] == [expected]


@pytest.mark.parametrize(
    "text",
    ["tengo $1.200.000", "en otra tienda 1.100.000", "somos 15 personas", "el 28 de noviembre"],
)
def test_money_and_dates_are_not_phones(text: str) -> None:
    assert find_phones(text, ("CO",)) == []


@pytest.mark.parametrize(
    ("text", "asked", "expected"),
    [
        ("Hola, me llamo Lucía, de Mendoza", False, "Lucía"),
        ("me llamo daniela", False, "daniela"),
        ("Mi nombre es Paola Castro, mi número es 3157894561", False, "Paola Castro"),
        ("Soy Camila Rojas, estoy en Santiago", False, "Camila Rojas"),
        ("soy Marta de Construcciones Lérida SL", False, "Marta"),
        ("Soy la mamá de Tomás, me llamo Sofía", False, "Sofía"),
        ("si me sirve, a nombre de Catalina Vélez", False, "Catalina Vélez"),
        ("meu nome é Juliana", False, "Juliana"),
        ("sou o Carlos da Construtora Horizonte", False, "Carlos"),
        ("My name is John Smith and I need a quote", False, "John Smith"),
        ("Laura Gómez", True, "Laura Gómez"),
        ("con Andrés Felipe", True, "Andrés Felipe"),
        ("claro, Juan Camilo Restrepo", True, "Juan Camilo Restrepo"),
        (
            "Mark Thompson, Acme Logistics. You can reach me at +1 305 714 2287",
            True,
            "Mark Thompson",
        ),
        ("perdon, Sebastián Díaz", True, "Sebastián Díaz"),
    ],
)
def test_names(text: str, asked: bool, expected: str) -> None:
    names = find_names(text, asked)
    assert names
    assert max(names, key=lambda n: (n.confidence, n.start)).value == expected


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("Soy de Rosario", False),
        ("soy cliente de ustedes", False),
        ("I'm visiting Cancún next week", False),
        ("I'm in Lima", False),
        ("ya fuimos con otro ortodoncista", False),  # "con" is a name cue only when asked
        ("para qué quieres saber?", True),
        ("diana.ruiz@gmail.com", True),
        ("Hola", True),
    ],
)
def test_no_name(text: str, asked: bool) -> None:
    assert find_names(text, asked) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("somos 8 personas en Transportes Andinos SAC. Nos mandan", "Transportes Andinos SAC"),
        ("trabajo en Comercial Andes S.A.S.", "Comercial Andes S.A.S."),
        ("Tengo una pyme, Distribuidora Sur. Usamos Tango", "Distribuidora Sur"),
        ("sou a Renata da Clínica Sorriso", "Clínica Sorriso"),
        ("represento a Colegio San José y queremos", "Colegio San José"),
        ("we're a 5-person agency (Brightpath Studio) and", "Brightpath Studio"),
        ("our team at Greenleaf Foods needs", "Greenleaf Foods"),
        ("una clínica veterinaria en Monterrey (Vet Patitas) y", "Vet Patitas"),
    ],
)
def test_companies(text: str, expected: str) -> None:
    assert expected in [f.value for f in find_companies(text)]


def test_company_answer_to_the_business_question() -> None:
    found = find_companies("Mark Thompson, Acme Corp", asked_company=True)
    assert [f.value for f in found] == ["Acme Corp"]


@pytest.mark.parametrize("text", ["hola quiero info", "vi su anuncio en instagram", "Hola"])
def test_no_company(text: str) -> None:
    assert find_companies(text) == []


@pytest.mark.parametrize(
    ("text", "expected", "country"),
    [
        ("estoy en Medellín, por el Poblado", "Medellín", "CO"),
        ("un mazda 3 2015, en cali", "cali", "CO"),
        ("Soy de Viña del Mar", "Viña del Mar", "CL"),
        ("busco alquilar en Palermo, CABA", "CABA", "AR"),
        ("Moro no Rio de Janeiro", "Rio de Janeiro", "BR"),
        ("I'm relocating to Mexico City", "Mexico City", "MX"),
        ("vivo em São Paulo", "São Paulo", "BR"),
        ("somos una gestoría en Bilbao", "Bilbao", "ES"),
    ],
)
def test_cities(text: str, expected: str, country: str) -> None:
    cities = find_cities(text)
    assert [c.value for c in cities] == [expected]
    assert cities[0].country == country


def test_a_negated_city_is_left_out() -> None:
    assert [c.value for c in find_cities("perdón, es en Medellín, no Bogotá")] == ["Medellín"]


def test_ambiguous_city_lists_its_countries() -> None:
    assert set(city_countries("Córdoba")) == {"AR", "ES"}
    assert city_countries("Atlantis") == ()


@pytest.mark.parametrize("text", ["calle 85 # 15-20", "en la colonia Narvarte", "quiero info"])
def test_no_city(text: str) -> None:
    assert find_cities(text) == []


# --- phones of other countries, sign-offs, designated contacts -----------------------


@pytest.mark.parametrize(
    ("text", "regions", "expected"),
    [
        # No cue region reads them: the fallback regions do (valid first, then possible).
        ("Could you ring me on 07700 900123?", ("US", "CO"), "+447700900123"),
        ("Call me on 0117 496 0123 please", ("US", "CO"), "+441174960123"),
        ("tel 55 1234 5678, gracias", ("CO",), "+525512345678"),
        ("mi número es 612 345 678", ("CO",), "+34612345678"),
        ("llamame al 11 2345-6789", ("CO",), "+541123456789"),
        # A cue region still wins when it reads the number.
        ("Mi cel 099 123 456", ("UY", "CO"), "+59899123456"),
    ],
)
def test_phones_of_other_countries(text: str, regions: tuple[str, ...], expected: str) -> None:
    assert [f.value for f in find_phones(text, regions)] == [expected]


@pytest.mark.parametrize(
    "text",
    ["pedido 45512345678", "cc 1020304050 gracias", "tengo 1.200.000", "factura # 5512345678"],
)
def test_ids_and_amounts_are_not_fallback_phones(text: str) -> None:
    assert find_phones(text, ("CO",)) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Video call tour ok? - Priya", "Priya"),
        ("Could you ring me on 07700 900123? — Sophie", "Sophie"),
        ("Call me please. - Owen, Crumbs Bakery", "Owen"),
        ("Could you email me a quote? Tom Hughes, Leeds", "Tom Hughes"),
        ("Quedo atenta. Saludos, Marta", "Marta"),
        ("Any slots on Monday? Cheers, Amy", "Amy"),
        ("could you ring me this evening? Claire", "Claire"),
        ("We've got around £2,000. Thanks, Chloe & Sam", "Chloe"),
        ("Could you send a quote for bookkeeping? Nina, Bristol Bikes Ltd", "Nina"),
        ("nos mandan una propuesta? Dr. Luis Paredes", "Luis Paredes"),
        ("os escribo de parte de mi jefa, Elena Ruiz, que quiere presupuesto", "Elena Ruiz"),
        ("escribo en nombre de mi papá, Jorge Salas, para una valoración", "Jorge Salas"),
    ],
)
def test_sign_offs_and_designated_contacts(text: str, expected: str) -> None:
    names = find_names(text, False)
    assert names and max(names, key=lambda n: (n.confidence, n.start)).value == expected


@pytest.mark.parametrize(
    "text",
    [
        "Tienen envíos a Cali? Feliz Navidad",  # a capitalised end is no signature
        "Gracias. Saludos",
        "do you deliver? - Bogotá",  # a city, not a name
        "ok. Muchas Gracias",
        "me pueden atender hoy? Urgente",
        "Any slots left? Please",
    ],
)
def test_no_sign_off(text: str) -> None:
    assert find_names(text, False) == []


def test_a_company_after_the_lead_name() -> None:
    found = find_companies("Buen día, soy Ricardo de Tacos El Güero, tenemos 4 sucursales")
    assert [c.value for c in found] == ["Tacos El Güero"]


def test_uk_cities() -> None:
    assert [(c.value, c.country) for c in find_cities("Tom Hughes, Leeds")] == [("Leeds", "GB")]
    assert find_cities("I'm reading a book") == []  # "Reading" only with a capital


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("es para mi papá, él se llama Hernando y prefiere llamada", "Hernando"),
        ("Mi esposa Diana los contacta mañana", "Diana"),
        ("de parte de mi jefa, la doctora Marcela Rincón, necesitamos un seguro", "Marcela Rincón"),
    ],
)
def test_the_designated_contact_person_is_the_name(text: str, expected: str) -> None:
    assert expected in [f.value for f in find_names(text, False)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("el restaurante se llama La Fonda de Mary y estamos en Chía", "La Fonda de Mary"),
        ("la panadería se llama Pan de la Abuela", "Pan de la Abuela"),
    ],
)
def test_a_company_named_with_se_llama_keeps_its_connectors(text: str, expected: str) -> None:
    assert expected in [f.value for f in find_companies(text)]
