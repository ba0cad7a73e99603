//! What a payload may be, so that what is stored can always be read back: at most the size
//! limit in bytes of JSON, and at most [`MAX_DEPTH`] levels of nesting (the stores' JSON
//! reader takes 128, and a stored event wraps its payload in two more).

use serde::Serialize;

/// The deepest a payload may nest (arrays and objects within each other).
pub(crate) const MAX_DEPTH: usize = 100;

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
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn measures_bytes_and_depth_outside_strings() {
        let value = json!({"a": [1, [2, {"b": "[[[{\"}"}]], "c": "\\"});
        let measure = Measure::of(&value).expect("serialises");
        assert_eq!(
            measure.bytes,
            serde_json::to_string(&value).expect("text").len()
        );
        assert_eq!(measure.depth, 4);
        assert_eq!(Measure::of(&json!(3)).expect("serialises").depth, 0);
    }

    #[test]
    fn too_deep_and_too_large_are_problems() {
        let mut deep = json!(0);
        for _ in 0..MAX_DEPTH + 1 {
            deep = json!([deep]);
        }
        let measure = Measure::of(&deep).expect("serialises");
        assert!(measure
            .problem(usize::MAX)
            .is_some_and(|why| why.contains("101 levels")));
        assert!(Measure::of(&"xxxx")
            .expect("serialises")
            .problem(3)
            .is_some());
        assert_eq!(Measure::of(&"xx").expect("serialises").problem(4), None);
    }
}
