// The Socket.IO connection, through the official client (static/vendor/socket.io.min.js,
// loaded before this module as the global `io`). Every request takes an ack:
// `{ok: true, data}` resolves to `data`, `{ok: false, error}` rejects with RequestError.

const REQUEST_TIMEOUT_MS = 10000;

export class RequestError extends Error {
  constructor(error) {
    super(error.message);
    this.code = error.code;
    this.details = error.details;
  }
}

export class Connection {
  constructor(token) {
    // WebSocket first (a server may allow nothing else); long-polling if it cannot open.
    this.socket = globalThis.io({
      auth: { token },
      transports: ["websocket", "polling"],
      tryAllTransports: true,
    });
  }

  on(event, handler) {
    this.socket.on(event, handler);
  }

  async request(event, payload = {}) {
    const ack = await this.socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck(event, payload);
    if (!ack.ok) throw new RequestError(ack.error);
    return ack.data;
  }

  // A renewed access token: used for the next handshake, and re-authenticates a live socket.
  async useToken(token) {
    this.socket.auth.token = token;
    if (this.socket.connected) await this.request("auth:refresh", { access_token: token });
  }

  reconnect() {
    this.socket.connect();
  }

  close() {
    this.socket.disconnect();
  }
}

// A client_id for message:send. randomUUID needs a secure context (https or localhost).
export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
