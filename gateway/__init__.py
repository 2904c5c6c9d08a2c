"""gateway/: ЭҮШ / ШЭП, the e-government gateway (SyncChannel and AsyncChannel v10), and
ЭҮАШ АЖО / АРМ РШЭП, the providers' regional gateway workstation."""

from egovsim.components import Component
from gateway.router import routers
from gateway.service import background
from gateway.tables import SCHEMA

COMPONENT = Component(
    name="gateway",
    title="ЭҮШ / ШЭП (e-government gateway) and ЭҮАШ АЖО / АРМ РШЭП (regional workstation)",
    mounts=("/shep", "/rshep"),
    routers=routers,
    schema=SCHEMA,
    background=background,
)
