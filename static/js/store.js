// What the client knows: chats (with members once seen), users, and presence.

export class Store {
  me = null;
  chats = new Map();
  users = new Map();
  presence = new Map();

  reset(me) {
    this.me = me;
    this.chats.clear();
    this.users.clear();
    this.presence.clear();
    this.users.set(me.id, me);
  }

  // Merges what an answer or broadcast says about a chat into what is known. An answer older
  // than a message broadcast already seen does not roll the chat's activity back.
  putChat(chat) {
    const known = this.chats.get(chat.id);
    const merged = { ...known, ...chat };
    if (known && (known.last_seq ?? 0) > (chat.last_seq ?? 0)) {
      for (const key of ["last_seq", "last_message", "last_activity_at", "unread_count"]) merged[key] = known[key];
    }
    for (const member of chat.members ?? []) this.users.set(member.user.id, member.user);
    this.chats.set(chat.id, merged);
    return merged;
  }

  putMessage(message) {
    const chat = this.chats.get(message.chat_id);
    if (!chat) return null;
    if (message.seq >= (chat.last_message?.seq ?? 0)) {
      chat.last_message = message;
      chat.last_seq = Math.max(chat.last_seq ?? 0, message.seq);
      chat.last_activity_at = message.created_at;
    }
    return chat;
  }

  sortedChats() {
    const newest = (chat) => Date.parse(chat.last_activity_at);
    return [...this.chats.values()].sort((a, b) => newest(b) - newest(a));
  }

  others(chat) {
    return (chat.members ?? []).map((m) => m.user).filter((user) => user.id !== this.me.id);
  }

  title(chat) {
    if (chat.type === "group") return chat.name;
    return this.others(chat)[0]?.display_name ?? "Direct message";
  }

  nameOf(userId) {
    return this.users.get(userId)?.display_name ?? "Someone";
  }
}
