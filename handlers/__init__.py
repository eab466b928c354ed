"""The application: feature use cases plus the Socket.IO and HTTP transports."""
