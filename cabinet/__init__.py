"""cabinet/: жеке кабинет / личный кабинет, the citizen's personal cabinet: requests, statuses,
notifications and signed results."""

from cabinet.router import routers
from cabinet.tables import SCHEMA
from egovsim.components import Component

COMPONENT = Component(
    name="cabinet",
    title="жеке кабинет / личный кабинет (personal cabinet)",
    mounts=("/cabinet",),
    routers=routers,
    schema=SCHEMA,
)
