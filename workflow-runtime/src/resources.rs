//! Shared resources registered on a runtime and handed to steps as [`Res<T>`](crate::Res).

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::Arc;

use crate::engine::callback::CallbackHub;
#[cfg(feature = "testing")]
use crate::engine::doubles::Mocks;
use crate::type_map::TypeMap;

/// A type map from a resource's type to one shared value of it.
#[derive(Default)]
pub(crate) struct Resources {
    // Each value is an `Arc<T>` behind `dyn Any`, so unsized `T` (trait objects) work too.
    values: TypeMap<(Box<dyn Any + Send + Sync>, &'static str)>,
    /// Steps replaced in tests; only with the `testing` feature.
    #[cfg(feature = "testing")]
    pub(crate) mocks: Option<Arc<Mocks>>,
    /// Where callback tasks keep their callbacks (the runtime's store).
    pub(crate) callbacks: Option<Arc<CallbackHub>>,
}

impl Resources {
    pub(crate) fn insert<T: ?Sized + Send + Sync + 'static>(&mut self, value: Arc<T>) {
        self.values.insert(
            TypeId::of::<T>(),
            (Box::new(value), std::any::type_name::<T>()),
        );
    }

    pub(crate) fn get<T: ?Sized + Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.values
            .get(&TypeId::of::<T>())
            .and_then(|(value, _)| value.downcast_ref::<Arc<T>>())
            .cloned()
    }

    pub(crate) fn contains(&self, type_id: TypeId) -> bool {
        self.values.contains_key(&type_id)
    }
}

impl fmt::Debug for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.values.values().map(|(_, name)| name))
            .finish()
    }
}
