// The sidebar's list of chats, newest activity first, with a preview and an unread count.
import { el } from "./dom.js";

export function preview(message) {
  if (!message) return "No messages yet";
  if (message.deleted_at) return "Message deleted";
  if (message.encrypted) return "Encrypted message";
  if (message.type === "text") return message.content ?? "";
  return `[${message.type}]`;
}

export function renderChatList(list, store, openChatId, onOpen) {
  const items = store.sortedChats().map((chat) => {
    const unread = chat.unread_count > 0 ? el("span", { className: "unread", "aria-label": "unread" }, String(chat.unread_count)) : null;
    const button = el(
      "button",
      { type: "button", className: "chat", "aria-current": chat.id === openChatId ? "true" : null },
      el("span", { className: "title" }, store.title(chat)),
      unread,
      el("span", { className: "preview" }, preview(chat.last_message)),
    );
    button.addEventListener("click", () => onOpen(chat.id));
    return el("li", { "data-chat-id": chat.id }, button);
  });
  list.replaceChildren(...items);
}
