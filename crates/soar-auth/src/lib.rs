//! Microsoft identity for soar-rt integrations. It knows nothing of War Room entries.
