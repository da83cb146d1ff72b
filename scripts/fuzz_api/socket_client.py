"""Just enough of a WebSocket client (RFC 6455, stdlib only) to post messages into a room,
so the fuzz run finds real history and real media: text, a reply, and a PNG."""

import base64
import json
import os
import socket
import struct
import sys
import time
import urllib.parse
import zlib

DEADLINE_SECONDS = 20


def tiny_png():
    """A valid 1x1 PNG."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


class RoomSocket:
    """A chat socket to one room, authenticated by the access token."""

    def __init__(self, base, room_id, access):
        url = urllib.parse.urlparse(base)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=DEADLINE_SECONDS)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /ws/chat/{room_id}/ HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {access}\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._receive()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            sys.exit(f"signup: the chat socket was refused: {head[:200]!r}")

    def _receive(self):
        data = self.sock.recv(65536)
        if not data:
            sys.exit("signup: the chat socket closed")
        return data

    def _exactly(self, count):
        while len(self.buffer) < count:
            self.buffer += self._receive()
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def send(self, opcode, payload):
        """One masked frame (clients must mask)."""
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack(">BB", 0x80 | opcode, 0x80 | length)
        elif length < 65536:
            header = struct.pack(">BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack(">BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def next_text(self):
        """The next text frame's JSON (pings are answered, other frames skipped)."""
        while True:
            first, second = self._exactly(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                (length,) = struct.unpack(">H", self._exactly(2))
            elif length == 127:
                (length,) = struct.unpack(">Q", self._exactly(8))
            payload = self._exactly(length)
            if opcode == 0x1:
                return json.loads(payload)
            if opcode == 0x9:
                self.send(0xA, payload)
            elif opcode == 0x8:
                sys.exit(f"signup: the chat socket closed: {payload!r}")

    def stored(self, opcode, payload):
        """Sends a frame and returns the `chat.message` the server echoes for it."""
        self.send(opcode, payload)
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            event = self.next_text()
            if event.get("type") == "chat.message":
                return event
            if event.get("type") == "chat.error":
                sys.exit(f"signup: the chat socket refused a message: {event}")
        sys.exit("signup: no chat.message came back")

    def close(self):
        self.send(0x8, struct.pack(">H", 1000))
        self.sock.close()


def post_messages(base, room_id, access):
    """A text message, a reply to it and an image in the room; returns the image's id."""
    room = RoomSocket(base, room_id, access)
    text = room.stored(0x1, json.dumps({"message_type": "message", "message": "Hello, fuzzers!"}).encode())
    reply = {"message_type": "reply", "message": "Hello back!", "previous_message_id": text["id"]}
    room.stored(0x1, json.dumps(reply).encode())
    image = room.stored(0x2, b'{"message_type": "media", "media_format": "image"}<delimiter>' + tiny_png())
    room.close()
    return image["id"]
