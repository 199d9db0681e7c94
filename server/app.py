"""The Litestar application: wiring only (routes, lifespan, middleware)."""

from __future__ import annotations

import logging
import uuid
from contextlib import AsyncExitStack, asynccontextmanager
from typing import AsyncIterator

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig

from server.analytics.retention import RetentionJob
from server.api.admin import AdminController
from server.api.analytics import AnalyticsController
from server.api.auth import AuthController
from server.api.directory import DirectoryController
from server.api.incidents import IncidentController
from server.api.openapi import OpenAPIJson
from server.api.push import PushController
from server.api.shifts import ShiftController
from server.api.deps import provide_db, provide_principal, provide_session, provide_settings
from server.api.edge import refuse_hostile_input
from server.api.errors import EXCEPTION_HANDLERS
from server.api.health import health
from server.api.sync import SyncController
from server.push.keys import load_or_create
from server.push.sender import PushSender
from server.realtime.broker import Broker, MemoryBroker, PgBroker
from server.realtime.gateway import gateway
from server.realtime.hub import Hub
from server.services.notifier import PushNotifier
from server.services.sync_service import SyncService
from server.settings import Settings
from server.storage import connect, parse_database_url
from server.storage.migrate import migrate
from server.web.pwa import pwa_router
from server.web.head import head_as_get
from server.web.logs import quiet_client_noise
from server.web.security import security_headers_hook

log = logging.getLogger("patrol")


def make_broker(settings: Settings, instance_id: str) -> Broker:
    url = settings.effective_database_url
    backend = settings.channels_backend
    if backend == "auto":
        backend = "postgres" if url.startswith(("postgresql://", "postgres://")) else "memory"
    if backend == "postgres":
        return PgBroker(parse_database_url(url).target, instance_id)
    return MemoryBroker()


def create_app(settings: Settings) -> Litestar:
    instance_id = uuid.uuid4().hex[:12]
    quiet_client_noise()  # uvicorn's traceback per non-UTF-8 websocket frame: one INFO line

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        settings.data_path.mkdir(parents=True, exist_ok=True)
        async with AsyncExitStack() as stack:
            db = await connect(settings.effective_database_url)
            stack.push_async_callback(db.close)
            applied = await migrate(db)
            if applied:
                log.info("applied migrations: %s", ", ".join(f"{m.version:04d}_{m.name}" for m in applied))
            hub = Hub(db, make_broker(settings, instance_id))
            await hub.start()
            stack.push_async_callback(hub.stop)
            keys = load_or_create(settings.effective_vapid_key_path)
            pusher = PushSender(keys, settings.vapid_subject, db)
            await pusher.start()
            stack.push_async_callback(pusher.stop)
            retention = RetentionJob(db, settings.location_retention_days)
            await retention.start()
            stack.push_async_callback(retention.stop)
            notifier = PushNotifier(db, pusher, settings.effective_public_url, instance_id)
            await notifier.start()
            stack.push_async_callback(notifier.stop)
            app.state.update(db=db, hub=hub, pusher=pusher, vapid=keys, instance_id=instance_id,
                             sync_service=SyncService(db, hub, [notifier]))
            yield

    app = Litestar(
        route_handlers=[health, AuthController, AdminController, SyncController, DirectoryController,
                        IncidentController, PushController, gateway,
                        ShiftController,
                        AnalyticsController,
                        pwa_router(settings.effective_pwa_dir)],
        dependencies={
            "db": Provide(provide_db),
            "settings": Provide(provide_settings),
            "auth_session": Provide(provide_session),
            "principal": Provide(provide_principal),
        },
        lifespan=[lifespan],
        state=State({"settings": settings}),
        before_send=[security_headers_hook(settings.tile_url)],
        before_request=refuse_hostile_input,  # NUL and 64-bit overflows: a 4xx naming the field
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=settings.max_request_bytes,
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024,
                                             exclude=["/sw.js", "/ws"]),
        openapi_config=OpenAPIConfig(title="Patrol API", version="1", path="/api/docs",
                                     render_plugins=[OpenAPIJson(path=["/", "/openapi.json"])]),
        logging_config=LoggingConfig(root={"level": settings.log_level.upper(), "handlers": ["queue_listener"]},
                                     log_exceptions="debug"),
    )
    # HEAD is GET without the body (monitors, link checkers). Around the router, not as route
    # middleware: routing would answer 405 before any route middleware runs.
    app.asgi_handler = head_as_get(app.asgi_handler)
    return app
