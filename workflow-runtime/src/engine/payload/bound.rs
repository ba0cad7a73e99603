//! An upper bound on the size of a value's JSON, found without writing any of it.
//!
//! Checking every payload against the limit by writing its JSON (even into a counter) costs
//! a number's digits, a string's escapes, a float's shortest form: most of an Express task's
//! time. Almost every payload is far below the limit, and for those an upper bound settles
//! it: a `u64` is at most 20 bytes, a string of `n` bytes at most `6n + 2`. Only a value
//! whose bound is over the limit (or that the bound cannot vouch for: a map key serde_json
//! may refuse, a `Serialize` that fails) is measured exactly, so verdicts and errors are
//! serde_json's own.
//!
//! Nesting is counted as serde_json's formatter counts it; the bound never says less.

use std::fmt;

use serde::ser::{self, Serialize};

use super::MAX_DEPTH;

/// Whether `value`'s JSON is surely at most `limit` bytes and nests at most [`MAX_DEPTH`]
/// levels. `false` means "measure it", not "too large".
#[inline]
pub(super) fn surely_within<T: Serialize + ?Sized>(value: &T, limit: usize) -> bool {
    let mut bound = Bound {
        bytes: 0,
        limit,
        open: 0,
    };
    value.serialize(&mut bound).is_ok()
}

/// The running bound; serialising into it fails as soon as it can no longer vouch.
struct Bound {
    bytes: usize,
    limit: usize,
    open: usize,
}

/// The bound cannot vouch for the value: it must be measured.
#[derive(Debug)]
struct Unbounded;

impl fmt::Display for Unbounded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no bound under the limit")
    }
}

impl std::error::Error for Unbounded {}

impl ser::Error for Unbounded {
    fn custom<T: fmt::Display>(_message: T) -> Self {
        Unbounded
    }
}

/// The most bytes a signed or unsigned integer of up to 64 bits takes (`-9223372036854775808`).
const INTEGER: usize = 20;
/// The most bytes of a 128-bit integer.
const WIDE_INTEGER: usize = 40;
/// The most bytes of a float in its shortest form (`-1.7976931348623157e308`), or `null`.
const FLOAT: usize = 24;
/// The most bytes one string byte becomes (`\u001f`).
const ESCAPED: usize = 6;

impl Bound {
    fn add(&mut self, bytes: usize) -> Result<(), Unbounded> {
        self.bytes = self.bytes.saturating_add(bytes);
        if self.bytes > self.limit {
            return Err(Unbounded);
        }
        Ok(())
    }

    fn add_str(&mut self, text: &str) -> Result<(), Unbounded> {
        self.add(text.len().saturating_mul(ESCAPED).saturating_add(2))
    }

    fn open(&mut self) -> Result<(), Unbounded> {
        self.open += 1;
        if self.open > MAX_DEPTH {
            return Err(Unbounded);
        }
        Ok(())
    }

    fn close(&mut self) {
        self.open -= 1;
    }

    /// `{"variant":` around a variant's content, which the caller closes with `}`.
    fn open_variant(&mut self, variant: &str) -> Result<(), Unbounded> {
        self.open()?;
        self.add_str(variant)?;
        self.add(2)
    }
}

impl<'a> ser::Serializer for &'a mut Bound {
    type Ok = ();
    type Error = Unbounded;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, _: bool) -> Result<(), Unbounded> {
        self.add(5)
    }
    fn serialize_i8(self, _: i8) -> Result<(), Unbounded> {
        self.add(INTEGER)
    }
    fn serialize_i16(self, _: i16) -> Result<(), Unbounded> {
        self.add(INTEGER)
    }
    fn serialize_i32(self, _: i32) -> Result<(), Unbounded> {
        self.add(INTEGER)
    }
    fn serialize_i64(self, _: i64) -> Result<(), Unbounded> {
        self.add(INTEGER)
    }
    fn serialize_i128(self, _: i128) -> Result<(), Unbounded> {
        self.add(WIDE_INTEGER)
    }
    fn serialize_u8(self, _: u8) -> Result<(), Unbounded> {
        self.add(INTEGER)
    }
    fn serialize_u16(self, _: u16) -> Result<(), Unbounded> {
        self.add(INTEGER)
    }
    fn serialize_u32(self, _: u32) -> Result<(), Unbounded> {
        self.add(INTEGER)
    }
    fn serialize_u64(self, _: u64) -> Result<(), Unbounded> {
        self.add(INTEGER)
    }
    fn serialize_u128(self, _: u128) -> Result<(), Unbounded> {
        self.add(WIDE_INTEGER)
    }
    fn serialize_f32(self, _: f32) -> Result<(), Unbounded> {
        self.add(FLOAT)
    }
    fn serialize_f64(self, _: f64) -> Result<(), Unbounded> {
        self.add(FLOAT)
    }
    fn serialize_char(self, _: char) -> Result<(), Unbounded> {
        self.add(ESCAPED + 2)
    }
    fn serialize_str(self, text: &str) -> Result<(), Unbounded> {
        self.add_str(text)
    }
    fn serialize_bytes(self, bytes: &[u8]) -> Result<(), Unbounded> {
        // An array of numbers: `[255,255]`.
        self.open()?;
        self.add(bytes.len().saturating_mul(4).saturating_add(2))?;
        self.close();
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Unbounded> {
        self.add(4)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unbounded> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Unbounded> {
        self.add(4)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unbounded> {
        self.add(4)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Unbounded> {
        self.add_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Unbounded> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Unbounded> {
        self.open_variant(variant)?;
        value.serialize(&mut *self)?;
        self.add(1)?;
        self.close();
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Unbounded> {
        Compound::open(self, 0)
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, Unbounded> {
        Compound::open(self, 0)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Unbounded> {
        Compound::open(self, 0)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Unbounded> {
        self.open_variant(variant)?;
        Compound::open(self, 1)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Unbounded> {
        Compound::open(self, 0)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Unbounded> {
        Compound::open(self, 0)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Unbounded> {
        self.open_variant(variant)?;
        Compound::open(self, 1)
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), Unbounded> {
        // serde's default writes the text into a `String` first; count it instead.
        let mut length = Length(0);
        fmt::write(&mut length, format_args!("{value}")).map_err(|_| Unbounded)?;
        self.add(length.0.saturating_mul(ESCAPED).saturating_add(2))
    }
}

/// Counts the bytes of formatted text.
struct Length(usize);

impl fmt::Write for Length {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0 += text.len();
        Ok(())
    }
}

/// An array or object under way: each element adds its separator, the end its bracket and
/// the brackets of an enclosing variant (`variants`).
struct Compound<'a> {
    bound: &'a mut Bound,
    variants: usize,
}

impl<'a> Compound<'a> {
    fn open(bound: &'a mut Bound, variants: usize) -> Result<Self, Unbounded> {
        bound.open()?;
        // Both brackets now; a separator (`,` or `:`) with each element.
        bound.add(2)?;
        Ok(Compound { bound, variants })
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unbounded> {
        self.bound.add(1)?;
        value.serialize(&mut *self.bound)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Unbounded> {
        // `"key":value,`
        self.bound.add_str(key)?;
        self.bound.add(2)?;
        value.serialize(&mut *self.bound)
    }

    fn end(self) -> Result<(), Unbounded> {
        self.bound.close();
        for _ in 0..self.variants {
            // The enclosing variant's `}`.
            self.bound.add(1)?;
            self.bound.close();
        }
        Ok(())
    }
}

/// The compounds whose elements come one by one: arrays, and the fields of tuples.
macro_rules! elements {
    ($($compound:ident :: $method:ident),*) => {$(
        impl ser::$compound for Compound<'_> {
            type Ok = ();
            type Error = Unbounded;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unbounded> {
                self.element(value)
            }
            fn end(self) -> Result<(), Unbounded> {
                Compound::end(self)
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Unbounded;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unbounded> {
        // The `,` before it and the `:` after it.
        self.bound.add(2)?;
        key.serialize(Key(&mut *self.bound))
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unbounded> {
        value.serialize(&mut *self.bound)
    }
    fn end(self) -> Result<(), Unbounded> {
        Compound::end(self)
    }
}

/// The compounds whose elements are named fields: structs and struct variants.
macro_rules! fields {
    ($($compound:ident),*) => {$(
        impl ser::$compound for Compound<'_> {
            type Ok = ();
            type Error = Unbounded;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Unbounded> {
                self.field(key, value)
            }
            fn end(self) -> Result<(), Unbounded> {
                Compound::end(self)
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

/// A map key: bounded only when serde_json surely writes it as a string (a string, a char,
/// an integer in quotes, a unit variant's name); any other key is measured, so that serde_json
/// says whether it takes it.
struct Key<'a>(&'a mut Bound);

impl Key<'_> {
    fn integer(self) -> Result<(), Unbounded> {
        self.0.add(INTEGER + 2)
    }
}

impl ser::Serializer for Key<'_> {
    type Ok = ();
    type Error = Unbounded;
    type SerializeSeq = ser::Impossible<(), Unbounded>;
    type SerializeTuple = ser::Impossible<(), Unbounded>;
    type SerializeTupleStruct = ser::Impossible<(), Unbounded>;
    type SerializeTupleVariant = ser::Impossible<(), Unbounded>;
    type SerializeMap = ser::Impossible<(), Unbounded>;
    type SerializeStruct = ser::Impossible<(), Unbounded>;
    type SerializeStructVariant = ser::Impossible<(), Unbounded>;

    fn serialize_str(self, text: &str) -> Result<(), Unbounded> {
        self.0.add_str(text)
    }
    fn serialize_char(self, _: char) -> Result<(), Unbounded> {
        self.0.add(ESCAPED + 2)
    }
    fn serialize_i8(self, _: i8) -> Result<(), Unbounded> {
        self.integer()
    }
    fn serialize_i16(self, _: i16) -> Result<(), Unbounded> {
        self.integer()
    }
    fn serialize_i32(self, _: i32) -> Result<(), Unbounded> {
        self.integer()
    }
    fn serialize_i64(self, _: i64) -> Result<(), Unbounded> {
        self.integer()
    }
    fn serialize_u8(self, _: u8) -> Result<(), Unbounded> {
        self.integer()
    }
    fn serialize_u16(self, _: u16) -> Result<(), Unbounded> {
        self.integer()
    }
    fn serialize_u32(self, _: u32) -> Result<(), Unbounded> {
        self.integer()
    }
    fn serialize_u64(self, _: u64) -> Result<(), Unbounded> {
        self.integer()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Unbounded> {
        self.0.add_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Unbounded> {
        value.serialize(self)
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), Unbounded> {
        ser::Serializer::collect_str(&mut *self.0, value)
    }

    // Keys serde_json may write differently or refuse: measured.
    fn serialize_bool(self, _: bool) -> Result<(), Unbounded> {
        Err(Unbounded)
    }
    fn serialize_i128(self, _: i128) -> Result<(), Unbounded> {
        Err(Unbounded)
    }
    fn serialize_u128(self, _: u128) -> Result<(), Unbounded> {
        Err(Unbounded)
    }
    fn serialize_f32(self, _: f32) -> Result<(), Unbounded> {
        Err(Unbounded)
    }
    fn serialize_f64(self, _: f64) -> Result<(), Unbounded> {
        Err(Unbounded)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Unbounded> {
        Err(Unbounded)
    }
    fn serialize_none(self) -> Result<(), Unbounded> {
        Err(Unbounded)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Unbounded> {
        Err(Unbounded)
    }
    fn serialize_unit(self) -> Result<(), Unbounded> {
        Err(Unbounded)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unbounded> {
        Err(Unbounded)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Unbounded> {
        Err(Unbounded)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Unbounded> {
        Err(Unbounded)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Unbounded> {
        Err(Unbounded)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Unbounded> {
        Err(Unbounded)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unbounded> {
        Err(Unbounded)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Unbounded> {
        Err(Unbounded)
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, Unbounded> {
        Err(Unbounded)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Unbounded> {
        Err(Unbounded)
    }
}
