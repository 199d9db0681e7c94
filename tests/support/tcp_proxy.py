"""A TCP proxy a test can break: cut every connection, refuse new ones, heal.

Put it between the server and PostgreSQL to play an outage (the database host
reboots, a firewall drops the link) without touching the real service:

    async with TcpProxy("127.0.0.1", 5432) as proxy:
        url = proxy.rewrite(dsn)   # the same DSN, through the proxy
        proxy.down()               # cut every open connection, refuse new ones
        proxy.up()                 # accept again

It runs on its own thread and event loop, so a server in another thread or
loop (uvicorn in ``LiveServer``, the test client's loop) is unaffected by the
test's own awaits.
"""

from __future__ import annotations

import asyncio
import threading
from urllib.parse import urlsplit, urlunsplit


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.accepting = True
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> "TcpProxy":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> "TcpProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> "TcpProxy":
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        self.stop()

    # -- faults ----------------------------------------------------------------
    def down(self) -> None:
        """Reset every open connection and refuse new ones until :meth:`up`."""
        def cut() -> None:
            self.accepting = False
            for writer in list(self._open):
                writer.transport.abort()
            self._open.clear()
        self._loop.call_soon_threadsafe(cut)
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0), self._loop).result(10)

    def up(self) -> None:
        self._loop.call_soon_threadsafe(setattr, self, "accepting", True)
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0), self._loop).result(10)

    def rewrite(self, dsn: str) -> str:
        """``dsn`` with its host and port replaced by the proxy's."""
        parts = urlsplit(dsn)
        user = f"{parts.username}@" if parts.username else ""
        return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{self.port}"))

    # -- plumbing --------------------------------------------------------------
    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._open):
            writer.transport.abort()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.accepting:
            writer.transport.abort()  # a reset, as a host that is down answers
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        self._open.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                self._open.discard(dst)
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
