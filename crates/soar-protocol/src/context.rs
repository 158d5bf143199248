//! The integration context a command reads and writes.

use crate::Object;
use serde_json::Value;

/// The integration context of one request, with a flag that says whether the command changed
/// it (the response carries it only then).
///
/// It holds tokens, so its `Debug` output lists the keys only, never the values.
#[derive(Clone, Default)]
pub struct IntegrationContext {
    data: Object,
    changed: bool,
}

impl IntegrationContext {
    /// The context as the engine sent it.
    pub fn new(data: Object) -> Self {
        IntegrationContext { data, changed: false }
    }

    /// The whole context.
    pub fn data(&self) -> &Object {
        &self.data
    }

    /// One key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.data.get(key)
    }

    /// Sets one key.
    pub fn set(&mut self, key: impl Into<String>, value: Value) {
        let key = key.into();
        if self.data.get(&key) != Some(&value) {
            self.data.insert(key, value);
            self.changed = true;
        }
    }

    /// Removes one key.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let old = self.data.shift_remove(key);
        if old.is_some() {
            self.changed = true;
        }
        old
    }

    /// Replaces the whole context.
    pub fn replace(&mut self, data: Object) {
        if self.data != data {
            self.data = data;
            self.changed = true;
        }
    }

    /// True when the command changed the context.
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// The context, for the response.
    pub fn into_data(self) -> Object {
        self.data
    }
}

impl std::fmt::Debug for IntegrationContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrationContext")
            .field("keys", &self.data.keys().collect::<Vec<_>>())
            .field("changed", &self.changed)
            .finish()
    }
}
