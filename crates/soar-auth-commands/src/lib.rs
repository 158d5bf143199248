//! The generic `<prefix>-auth-*` commands, shared by every integration.
