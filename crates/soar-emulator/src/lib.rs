//! A local Microsoft cloud. It shares no code with soar-auth or the integrations.
