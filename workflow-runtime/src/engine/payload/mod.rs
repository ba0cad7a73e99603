//! What a payload may be, so that what is stored can always be read back: at most the size
//! limit in bytes of JSON, and at most [`MAX_DEPTH`] levels of nesting (the stores' JSON
//! reader takes 128, and a stored event wraps its payload in two more).

use serde::Serialize;

mod bound;
mod checks;

/// The deepest a payload may nest (arrays and objects within each other).
pub(crate) const MAX_DEPTH: usize = 100;

/// Why `value` cannot be a payload of at most `limit` bytes of JSON, if it cannot; an error if
/// it has no JSON form. Measured exactly only when its [bound](bound) is not enough.
pub(crate) fn problem<T: Serialize + ?Sized>(
    value: &T,
    limit: usize,
) -> Result<Option<String>, serde_json::Error> {
    if surely_within(value, limit) {
        return Ok(None);
    }
    measured_problem(value, limit)
}

/// Whether `value`'s JSON is surely within `limit` bytes and [`MAX_DEPTH`] levels, by its
/// bound alone; `false` means "measure it".
#[inline]
pub(crate) fn surely_within<T: Serialize + ?Sized>(value: &T, limit: usize) -> bool {
    bound::surely_within(value, limit)
}

/// [`problem`], from the exact measure.
pub(crate) fn measured_problem<T: Serialize + ?Sized>(
    value: &T,
    limit: usize,
) -> Result<Option<String>, serde_json::Error> {
    Ok(Measure::of(value)?.problem(limit))
}

/// The size and nesting of a value's JSON, measured as it is written, without keeping it.
#[derive(Debug, Default)]
pub(crate) struct Measure {
    /// Bytes of JSON.
    pub(crate) bytes: usize,
    /// The deepest nesting reached.
    pub(crate) depth: usize,
}

impl Measure {
    /// Measures `value`'s JSON: the writer counts bytes, the formatter counts nesting (so no
    /// byte is looked at twice).
    pub(crate) fn of<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        let mut bytes = ByteCount(0);
        let mut nesting = Nesting::default();
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut bytes,
            &mut nesting,
        ))?;
        Ok(Measure {
            bytes: bytes.0,
            depth: nesting.deepest,
        })
    }

    /// Why the value cannot be a payload (`limit`: the most bytes), if it cannot.
    #[inline]
    pub(crate) fn problem(&self, limit: usize) -> Option<String> {
        if self.bytes <= limit && self.depth <= MAX_DEPTH {
            return None;
        }
        self.explain(limit)
    }

    #[cold]
    fn explain(&self, limit: usize) -> Option<String> {
        if self.bytes > limit {
            Some(format!(
                "is {} bytes of JSON, over the limit of {limit}",
                self.bytes
            ))
        } else if self.depth > MAX_DEPTH {
            Some(format!(
                "nests {} levels deep, over the limit of {MAX_DEPTH}",
                self.depth
            ))
        } else {
            None
        }
    }
}

/// Counts the bytes written to it.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// serde_json's compact formatter, counting how deep arrays and objects nest.
#[derive(Debug, Default)]
struct Nesting {
    open: usize,
    deepest: usize,
}

impl Nesting {
    fn open(&mut self) {
        self.open += 1;
        self.deepest = self.deepest.max(self.open);
    }

    fn close(&mut self) {
        self.open = self.open.saturating_sub(1);
    }
}

impl serde_json::ser::Formatter for &mut Nesting {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.open();
        writer.write_all(b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.close();
        writer.write_all(b"]")
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.open();
        writer.write_all(b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.close();
        writer.write_all(b"}")
    }
}

#[cfg(test)]
mod tests;
