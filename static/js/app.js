// The chat client: sign in over HTTP, then everything else over Socket.IO.
import * as api from "./api.js";
import { renderChatList } from "./chat_list.js";
import { Connection } from "./connection.js";
import { Conversation } from "./conversation.js";
import { $, describeError, formData, show } from "./dom.js";
import { Session } from "./session.js";
import { Store } from "./store.js";

const session = new Session();
const store = new Store();
let connection = null;
let conversation = null;

const views = { auth: $("#auth-view"), chats: $("#chat-view") };
const nodes = {
  me: $("#me"),
  status: $("#connection"),
  logout: $("#logout"),
  authError: $("#auth-error"),
  chatError: $("#chat-error"),
  chatList: $("#chat-list"),
  composer: $("#composer"),
  conversation: {
    title: $("#chat-title"),
    presence: $("#chat-presence"),
    messages: $("#messages"),
    typing: $("#typing"),
  },
};

function reportTo(node, action) {
  return async (event) => {
    event?.preventDefault();
    node.textContent = "";
    try {
      await action(event);
    } catch (error) {
      node.textContent = describeError(error);
    }
  };
}

function renderChats() {
  renderChatList(nodes.chatList, store, conversation?.chatId, (chatId) => openChat(chatId));
}

async function openChat(chatId) {
  nodes.chatError.textContent = "";
  show(nodes.composer, true);
  renderChats();
  try {
    await conversation.open(chatId);
  } catch (error) {
    nodes.chatError.textContent = describeError(error);
  }
  renderChats();
}

async function loadChats() {
  const { chats } = await connection.request("chat:list");
  chats.forEach((chat) => store.putChat(chat));
  // chat:list leaves members out; a DM is named after the other member.
  const dms = chats.filter((chat) => chat.type === "dm" && !store.chats.get(chat.id).members);
  const answers = await Promise.all(dms.map((chat) => connection.request("chat:get", { chat_id: chat.id })));
  answers.forEach(({ chat }) => store.putChat(chat));
  renderChats();
}

function onMessage(message) {
  const chat = store.putMessage(message);
  if (!chat) {
    // A chat this client has not listed yet: the list is stale, so fetch it again.
    loadChats().catch((error) => (nodes.chatError.textContent = describeError(error)));
  } else if (message.sender_id !== store.me.id && message.chat_id !== conversation.chatId) {
    chat.unread_count = (chat.unread_count ?? 0) + 1;
  }
  conversation.receive(message);
  renderChats();
}

// After the server refused or closed the socket: with a renewed token, connect again; when the
// server refuses to renew (logged out, suspended, banned), sign out; when it is unreachable, retry.
function resume() {
  session.renew().then(
    () => connection.reconnect(),
    (error) => (error instanceof api.ApiError ? session.end() : connection.reconnect()),
  );
}

function listen() {
  let connectedBefore = false;
  let renewedForHandshake = false;
  connection.on("connect", () => {
    nodes.status.textContent = "connected";
    renewedForHandshake = false;
    // After a reconnect, also reload the open chat for whatever was missed.
    const reopen = connectedBefore && conversation.chatId;
    loadChats()
      .then(() => reopen && openChat(conversation.chatId))
      .catch((error) => (nodes.chatError.textContent = describeError(error)));
    connectedBefore = true;
  });
  connection.on("disconnect", (reason) => {
    nodes.status.textContent = "reconnecting…";
    if (reason === "io server disconnect") resume(); // the server ended it: maybe the session too
  });
  connection.on("connect_error", (error) => {
    nodes.status.textContent = `cannot connect (${error.data?.code ?? error.message})`;
    if (error.data?.code !== "unauthorized" || renewedForHandshake) return;
    renewedForHandshake = true; // the access token expired: renew it once, then retry
    resume();
  });
  connection.on("chat:new", ({ chat }) => {
    store.putChat(chat);
    renderChats();
  });
  connection.on("chat:updated", ({ chat }) => {
    store.putChat(chat);
    renderChats();
    if (chat.id === conversation.chatId) conversation.renderHeader();
  });
  connection.on("message:new", ({ message }) => onMessage(message));
  connection.on("message:updated", ({ message }) => conversation.receive(message));
  connection.on("message:deleted", (event) => conversation.deleted(event));
  connection.on("typing", (event) => conversation.typing(event));
  connection.on("presence", ({ user_id: userId, online, last_seen_at: lastSeenAt }) => {
    store.presence.set(userId, { online, last_seen_at: lastSeenAt });
    conversation.renderHeader();
  });
  connection.on("user:updated", ({ user }) => {
    store.users.set(user.id, user);
    renderChats();
    conversation.renderHeader();
  });
}

function signedIn() {
  store.reset(session.user);
  nodes.me.textContent = `${session.user.display_name} (@${session.user.username})`;
  connection = new Connection(session.token);
  conversation = new Conversation(nodes.conversation, store, connection, renderChats);
  listen();
  show(views.auth, false);
  show(views.chats, true);
  show(nodes.logout, true);
}

function signedOut() {
  connection?.close();
  connection = null;
  conversation?.close();
  nodes.me.textContent = "";
  nodes.status.textContent = "";
  show(views.chats, false);
  show(nodes.logout, false);
  show(nodes.composer, false);
  show(views.auth, true);
}

// Usernames (comma-separated) to user ids, by exact username among user:search's answers.
async function userIds(usernames) {
  const wanted = usernames.split(",").map((name) => name.trim().replace(/^@/, "")).filter(Boolean);
  return Promise.all(
    wanted.map(async (username) => {
      const { users } = await connection.request("user:search", { q: username, limit: 20 });
      const user = users.find((candidate) => candidate.username.toLowerCase() === username.toLowerCase());
      if (!user) throw new Error(`No user named @${username}`);
      return user.id;
    }),
  );
}

async function createChat(event) {
  const form = event.target;
  const { type, usernames, name } = formData(form);
  const ids = await userIds(usernames);
  const payload = type === "dm" ? { type, user_id: ids[0] } : { type, name, member_ids: ids };
  const { chat } = await connection.request("chat:create", payload);
  store.putChat(chat);
  form.reset();
  await openChat(chat.id);
}

async function sendMessage(event) {
  const input = event.target.elements.content;
  const content = input.value;
  if (!content.trim() || !conversation.chatId) return;
  input.value = ""; // at once: the next message may be typed while this one travels
  try {
    onMessage(await conversation.send(content));
  } catch (error) {
    if (!input.value) input.value = content; // sending it again reuses its client_id
    throw error;
  }
}

$("#login-form").addEventListener(
  "submit",
  reportTo(nodes.authError, async (event) => {
    const { login, password } = formData(event.target);
    session.start(await api.login(login, password));
  }),
);
$("#register-form").addEventListener(
  "submit",
  reportTo(nodes.authError, async (event) => {
    const fields = formData(event.target);
    if (!fields.display_name) delete fields.display_name;
    session.start(await api.register(fields));
  }),
);
$("#new-chat-form").addEventListener("submit", reportTo(nodes.chatError, createChat));
$("#new-chat-form").elements.type.addEventListener("change", (event) => {
  show($("#group-name"), event.target.value === "group");
});
nodes.composer.addEventListener("submit", reportTo(nodes.chatError, sendMessage));
nodes.composer.elements.content.addEventListener("input", () => conversation?.composing());
nodes.logout.addEventListener("click", () => session.end());

session.addEventListener("token", () => {
  if (!connection) signedIn();
  else connection.useToken(session.token).catch(() => {});
});
session.addEventListener("end", signedOut);
if (!(await session.restore())) signedOut();
