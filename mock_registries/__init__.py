"""mock_registries/: ЖТ МДҚ / ГБД ФЛ, the state database of individuals, and БНАЖ / ЕНИС, the
unified notarial information system (powers of attorney), served through the gateway."""

from egovsim.components import Component
from mock_registries.router import routers
from mock_registries.service import background
from mock_registries.tables import SCHEMA

COMPONENT = Component(
    name="registries",
    title="ЖТ МДҚ / ГБД ФЛ (individuals) and БНАЖ / ЕНИС (powers of attorney)",
    mounts=("/registries",),
    routers=routers,
    schema=SCHEMA,
    background=background,
)
