// Parley's HTTP surface (same origin). A failure throws ApiError with the contract's code.

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message);
    this.status = status;
    this.code = error.code;
    this.details = error.details;
  }
}

async function call(method, path, { body, token } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, data?.error ?? { code: "internal", message: response.statusText });
  }
  return data;
}

export const register = (fields) => call("POST", "/api/auth/register", { body: fields });
export const login = (login, password) => call("POST", "/api/auth/login", { body: { login, password } });
// The refresh token travels as the HttpOnly cookie that login and register set.
export const refresh = () => call("POST", "/api/auth/refresh", { body: {} });
export const logout = (token) => call("POST", "/api/auth/logout", { token, body: {} });
export const adminStats = (token) => call("GET", "/api/admin/stats", { token });
