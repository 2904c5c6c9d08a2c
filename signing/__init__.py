"""signing/: НУЦ РК (Ұлттық куәландырушы орталық / Национальный удостоверяющий центр), the
National Certification Authority, and the EDS (ЭЦҚ / ЭЦП) checks of condition 2 (2-шарт)."""

from egovsim.components import Component
from signing.router import routers
from signing.tables import SCHEMA

COMPONENT = Component(
    name="signing",
    title="НУЦ РК / НУЦ РК: the National Certification Authority (mock), EDS checks (ЭЦҚ / ЭЦП)",
    mounts=("/nca",),
    routers=routers,
    schema=SCHEMA,
)
