"""One browser-less Streamlit session that can also move widgets and upload files.

``tests/ws_client.py`` opens pages; this keeps one websocket open and does what a browser's
frontend does between runs, so a benchmark or a test can drive many sessions at once without
drawing anything (bench/load.py):

- ``open(page, query)``: ``BackMsg.rerun_script`` for a page and its address's query string;
- ``set_widget(label, **value)``: find the widget drawn with that label in the last run and rerun
  with its new value (``double_array_value=[v]`` for a slider, ``int_value=i`` for a radio ...),
  sending every widget state this session has set, as the frontend does;
- ``upload(label, name, data)``: ask the server for upload URLs (``file_urls_request``), PUT the file
  with the session's XSRF cookie and header (XSRF protection is on: .streamlit/config.toml), and
  rerun with the file uploader's state naming it.

Every run returns a ``PageRun`` (tests/ws_client.py): the messages until ``script_finished``, and the
seconds from sending the request to that message (the server's time plus loopback, nothing drawn).
The query string the server last wrote into the address (``page_info_changed``) is kept in
``address``: a session checks its own settings there (bench/load.py's cross-session leak check).
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
import uuid

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from tests.ws_client import PageRun

XSRF_COOKIE = "_streamlit_xsrf"


def _widgets(run: PageRun) -> dict[str, tuple[str, object]]:
    """{label: (element type, element proto)} of every widget the run drew (the last one wins)."""
    out: dict[str, tuple[str, object]] = {}
    for m in run.messages:
        if m.WhichOneof("type") != "delta" or m.delta.WhichOneof("type") != "new_element":
            continue
        el = m.delta.new_element
        kind = el.WhichOneof("type")
        proto = getattr(el, kind)
        if hasattr(proto, "id") and hasattr(proto, "label") and proto.id:
            out[proto.label] = (kind, proto)
    return out


def _xsrf_cookie(url: str) -> str:
    """The XSRF cookie the server sets with its health answer, as the frontend reads it (empty when
    XSRF protection is off)."""
    with urllib.request.urlopen(url + "/_stcore/health", timeout=30) as r:
        cookies = r.headers.get_all("Set-Cookie") or []
    for c in cookies:
        name, _, rest = c.partition("=")
        if name.strip() == XSRF_COOKIE:
            return rest.split(";")[0].strip().strip('"')
    return ""


class Session:
    """A Streamlit session on ``url`` over one websocket (use ``async with``)."""

    def __init__(self, url: str, timeout_s: float = 300.0):
        self.url, self.timeout_s = url, timeout_s
        self.page, self.query, self.address = "", "", ""
        self.session_id = ""
        self.states: dict[str, WidgetState] = {}
        self.last: PageRun | None = None
        self._ws = None
        self._xsrf = ""

    async def __aenter__(self) -> Session:
        self._xsrf = await asyncio.to_thread(_xsrf_cookie, self.url)
        ws_url = self.url.replace("http://", "ws://", 1) + "/_stcore/stream"
        protocols = ["streamlit", self._xsrf] if self._xsrf else ["streamlit"]
        headers = {"Cookie": f"{XSRF_COOKIE}={self._xsrf}"} if self._xsrf else {}
        self._ws = await websockets.connect(ws_url, subprotocols=protocols, additional_headers=headers,
                                            max_size=None)
        return self

    async def __aexit__(self, *exc) -> None:
        await self._ws.close()

    async def _recv(self) -> ForwardMsg:
        f = ForwardMsg()
        f.ParseFromString(await asyncio.wait_for(self._ws.recv(), self.timeout_s))
        kind = f.WhichOneof("type")
        if kind == "new_session":
            self.session_id = f.new_session.initialize.session_id or self.session_id
        elif kind == "page_info_changed":
            self.address = f.page_info_changed.query_string
        return f

    async def _rerun(self) -> PageRun:
        msg = BackMsg()
        msg.rerun_script.query_string = self.query
        msg.rerun_script.page_name = self.page
        msg.rerun_script.widget_states.widgets.extend(self.states.values())
        t0 = time.monotonic()
        await self._ws.send(msg.SerializeToString())
        run = PageRun()
        while True:
            f = await self._recv()
            run.messages.append(f)
            if f.WhichOneof("type") == "script_finished":
                break
        run.seconds = time.monotonic() - t0
        self.last = run
        return run

    async def open(self, page: str, query: str = "") -> PageRun:
        """Open ``page`` (its file name without .py; "" for Home) with the address's ``query``; the
        widget states of the page before are dropped (a new page, as a link does)."""
        self.page, self.query, self.states = page, query, {}
        return await self._rerun()

    def widget(self, label: str):
        """The proto of the widget with this label in the last run (KeyError if none)."""
        return _widgets(self.last)[label][1]

    async def set_widget(self, label: str, **value) -> PageRun:
        """Rerun with the widget labelled ``label`` set: one WidgetState field, e.g.
        ``double_array_value=[30]`` (slider), ``string_value="shown option"`` (radio, select box: the
        option as drawn), ``string_array_value=["shown option"]`` (select slider), ``bool_value=True``
        (toggle), ``trigger_value=True`` (a button's click: sent with this rerun only)."""
        state = WidgetState(id=self.widget(label).id)
        for field, v in value.items():
            target = getattr(state, field)
            if hasattr(target, "data"):  # a repeated value (…_array_value)
                target.data.extend(v)
            else:
                setattr(state, field, v)
        self.states[state.id] = state
        self.query = self.address  # the frontend reruns with the address as it is now
        try:
            return await self._rerun()
        finally:
            if "trigger_value" in value:  # a click is sent once (the frontend resets it)
                self.states.pop(state.id, None)

    async def upload(self, label: str, name: str, data: bytes) -> PageRun:
        """Upload ``data`` as file ``name`` to the file uploader labelled ``label`` and rerun."""
        req = BackMsg()
        req.file_urls_request.request_id = uuid.uuid4().hex
        req.file_urls_request.file_names.append(name)
        req.file_urls_request.session_id = self.session_id
        await self._ws.send(req.SerializeToString())
        while True:
            f = await self._recv()
            if f.WhichOneof("type") == "file_urls_response":
                break
        urls = f.file_urls_response.file_urls[0]
        await asyncio.to_thread(self._put, urls.upload_url, name, data)
        state = WidgetState(id=self.widget(label).id)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.file_id, info.name, info.size = urls.file_id, name, len(data)
        info.file_urls.CopyFrom(urls)
        self.states[state.id] = state
        self.query = self.address
        return await self._rerun()

    def _put(self, upload_url: str, name: str, data: bytes) -> None:
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        url = upload_url if upload_url.startswith("http") else self.url + upload_url
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        if self._xsrf:
            headers |= {"X-Xsrftoken": self._xsrf, "Cookie": f"{XSRF_COOKIE}={self._xsrf}"}
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers, method="PUT"),
                                    timeout=self.timeout_s) as r:
            if r.status not in (200, 204):
                raise OSError(f"upload answered {r.status}")
