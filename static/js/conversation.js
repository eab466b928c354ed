// The open chat: its history, live messages, who is typing, and the members' presence.
import { preview } from "./chat_list.js";
import { newClientId } from "./connection.js";
import { el, timeOf } from "./dom.js";

const HISTORY_LIMIT = 50;
const TYPING_REFRESH_MS = 3000; // the server ends a typing indicator 6 s after its last refresh
const TYPING_SHOWN_MS = 8000; // a safety net should the server's "stopped typing" be missed

export class Conversation {
  chatId = null;
  #typing = new Map(); // user id -> timer that hides the indicator
  #typingSentAt = 0;
  #unsent = new Map(); // "chat id, content" -> client_id: a failed send is retried with it

  // nodes: {title, presence, messages, typing}; onRead(chat) after the chat is marked read.
  constructor(nodes, store, connection, onRead) {
    this.nodes = nodes;
    this.store = store;
    this.connection = connection;
    this.onRead = onRead;
  }

  async open(chatId) {
    this.chatId = chatId;
    this.#clearTyping();
    this.nodes.messages.replaceChildren();
    const { chat } = await this.connection.request("chat:get", { chat_id: chatId });
    this.store.putChat(chat);
    this.renderHeader();
    const { messages } = await this.connection.request("message:history", { chat_id: chatId, limit: HISTORY_LIMIT });
    if (this.chatId !== chatId) return;
    messages.forEach((message) => this.#upsert(message));
    await this.#loadPresence(chat);
    await this.#markRead(messages.at(-1));
  }

  close() {
    this.chatId = null;
    this.#clearTyping();
  }

  // A message from an ack or a broadcast (either may come first; the id keeps it once).
  receive(message) {
    if (message.chat_id !== this.chatId) return;
    this.#upsert(message);
    this.#stoppedTyping(message.sender_id);
    if (message.sender_id !== this.store.me.id) this.#markRead(message);
  }

  deleted({ chat_id: chatId, message_id: messageId }) {
    const item = this.#item(messageId);
    if (chatId !== this.chatId || !item) return;
    item.querySelector(".content").textContent = preview({ deleted_at: true });
    item.classList.add("deleted");
  }

  typing({ chat_id: chatId, user_id: userId, typing }) {
    if (chatId !== this.chatId || userId === this.store.me.id) return;
    if (!typing) return this.#stoppedTyping(userId);
    clearTimeout(this.#typing.get(userId));
    this.#typing.set(userId, setTimeout(() => this.#stoppedTyping(userId), TYPING_SHOWN_MS));
    this.#renderTyping();
  }

  // The composer changed: tell the chat (at most once per refresh interval).
  composing() {
    if (!this.chatId || Date.now() - this.#typingSentAt < TYPING_REFRESH_MS) return;
    this.#typingSentAt = Date.now();
    this.connection.request("typing", { chat_id: this.chatId, typing: true }).catch(() => {});
  }

  async send(content) {
    const chatId = this.chatId;
    const key = JSON.stringify([chatId, content]);
    const clientId = this.#unsent.get(key) ?? newClientId();
    this.#unsent.set(key, clientId);
    const { message } = await this.connection.request("message:send", {
      chat_id: chatId,
      client_id: clientId,
      type: "text",
      content,
    });
    this.#unsent.delete(key);
    this.#typingSentAt = 0;
    this.connection.request("typing", { chat_id: chatId, typing: false }).catch(() => {});
    return message;
  }

  renderHeader() {
    const chat = this.store.chats.get(this.chatId);
    if (!chat) return;
    this.nodes.title.textContent = this.store.title(chat);
    const others = this.store.others(chat);
    const presence = others.map((user) => this.store.presence.get(user.id));
    if (chat.type === "dm") {
      const state = presence[0];
      const lastSeen = state?.last_seen_at ? `last seen ${timeOf(state.last_seen_at)}` : "offline";
      this.nodes.presence.textContent = state?.online ? "online" : lastSeen;
    } else {
      const online = 1 + presence.filter((state) => state?.online).length; // 1: this user
      this.nodes.presence.textContent = `${others.length + 1} members, ${online} online`;
    }
  }

  async #loadPresence(chat) {
    const userIds = this.store.others(chat).map((user) => user.id);
    if (userIds.length === 0) return;
    const { presence } = await this.connection.request("presence:get", { user_ids: userIds });
    for (const [userId, state] of Object.entries(presence)) this.store.presence.set(userId, state);
    if (chat.id === this.chatId) this.renderHeader();
  }

  async #markRead(message) {
    if (!message) return;
    const read = await this.connection.request("message:read", { chat_id: message.chat_id, seq: message.seq });
    const chat = this.store.chats.get(read.chat_id);
    if (!chat) return;
    chat.unread_count = read.unread_count;
    this.onRead(chat);
  }

  #item(messageId) {
    return this.nodes.messages.querySelector(`li[data-id="${CSS.escape(messageId)}"]`);
  }

  // Inserts or replaces a message, keeping the list in seq order.
  #upsert(message) {
    const item = this.#render(message);
    const existing = this.#item(message.id);
    if (existing) return existing.replaceWith(item);
    const later = [...this.nodes.messages.children].find((node) => Number(node.dataset.seq) > message.seq);
    this.nodes.messages.insertBefore(item, later ?? null);
    if (!later) item.scrollIntoView({ block: "end" });
  }

  #render(message) {
    const mine = message.sender_id === this.store.me.id;
    const content = message.type === "poll" ? `Poll: ${message.poll?.question ?? ""}` : preview(message);
    return el(
      "li",
      {
        className: ["message", mine && "mine", message.deleted_at && "deleted"].filter(Boolean).join(" "),
        "data-id": message.id,
        "data-seq": message.seq,
      },
      el("span", { className: "sender" }, this.store.nameOf(message.sender_id)),
      el("span", { className: "content" }, content),
      el("time", { datetime: message.created_at }, timeOf(message.created_at)),
      message.edited_at && !message.deleted_at ? el("span", { className: "edited" }, "edited") : null,
    );
  }

  #stoppedTyping(userId) {
    clearTimeout(this.#typing.get(userId));
    if (this.#typing.delete(userId)) this.#renderTyping();
  }

  #clearTyping() {
    for (const timer of this.#typing.values()) clearTimeout(timer);
    this.#typing.clear();
    this.#renderTyping();
  }

  #renderTyping() {
    const names = [...this.#typing.keys()].map((userId) => this.store.nameOf(userId));
    const verb = names.length === 1 ? "is" : "are";
    this.nodes.typing.textContent = names.length ? `${names.join(" and ")} ${verb} typing…` : "";
  }
}
