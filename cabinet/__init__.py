"""cabinet/: жеке кабинет / личный кабинет, the citizen's personal cabinet: requests, statuses,
notifications and signed results."""

from egovsim.components import Component

from cabinet.router import routers

COMPONENT = Component(
    name="cabinet",
    title="жеке кабинет / личный кабинет (personal cabinet)",
    mounts=('/cabinet',),
    routers=routers,
)
