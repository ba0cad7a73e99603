//! Maps keyed by `TypeId` (registered workflows, resources), hashed by the id itself: a
//! `TypeId` already is a hash of its type, and hashing it again with the default SipHash took
//! as long as the rest of a lookup on every `call` and `execute`.

use std::any::TypeId;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map from types to `V`.
pub(crate) type TypeMap<V> = HashMap<TypeId, V, BuildHasherDefault<TypeIdHasher>>;

/// Passes a `TypeId`'s bits through (it writes them as one `u64`); other input is folded in.
#[derive(Debug, Default)]
pub(crate) struct TypeIdHasher(u64);

impl Hasher for TypeIdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, bits: u64) {
        self.0 = self.0.rotate_left(29) ^ bits;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_told_apart() {
        let mut map: TypeMap<&str> = TypeMap::default();
        map.insert(TypeId::of::<u32>(), "u32");
        map.insert(TypeId::of::<u64>(), "u64");
        map.insert(TypeId::of::<String>(), "String");
        assert_eq!(map.get(&TypeId::of::<u64>()), Some(&"u64"));
        assert_eq!(map.get(&TypeId::of::<String>()), Some(&"String"));
        assert_eq!(map.get(&TypeId::of::<u32>()), Some(&"u32"));
        assert_eq!(map.get(&TypeId::of::<i32>()), None);
    }
}
