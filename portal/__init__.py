"""portal/: the egov.kz web portal, and ХҚО ЫАЖ АЖО / АРМ ИИС ЦОН, the operator workstation of
the population service centre (ХҚО / ЦОН)."""

from egovsim.components import Component
from portal.router import routers
from portal.tables import SCHEMA

COMPONENT = Component(
    name="portal",
    title="egov.kz portal and the ХҚО / ЦОН operator workstation (ХҚО ЫАЖ АЖО)",
    mounts=("/portal", "/hqo"),
    routers=routers,
    schema=SCHEMA,
)
