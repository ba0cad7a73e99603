//! Events encoded for the SQL store where they are appended, on the executions' threads, so
//! that the one thread committing for every execution spends its time writing.

use std::borrow::Cow;

use super::event_json::write_event;
use crate::history::Event;

/// Events as the SQL store stores an append of them: one JSON array, built once, with where
/// each event's text starts in it (to store or compare part of them, should an earlier try of
/// the append have stored the first ones).
#[derive(Debug, Default)]
pub(crate) struct EncodedEvents {
    /// The events as a JSON array.
    array: String,
    /// Each event's id.
    ids: Vec<i64>,
    /// Where each event's text starts in `array`.
    starts: Vec<usize>,
}

impl EncodedEvents {
    /// `events` as one JSON array.
    pub(crate) fn encode(events: &[Event]) -> Self {
        let mut array = String::with_capacity(256 * events.len() + 2);
        let mut ids = Vec::with_capacity(events.len());
        let mut starts = Vec::with_capacity(events.len());
        array.push('[');
        for event in events {
            if !starts.is_empty() {
                array.push(',');
            }
            starts.push(array.len());
            write_event(&mut array, event);
            ids.push(event.id as i64);
        }
        array.push(']');
        EncodedEvents { array, ids, starts }
    }

    /// The number of events.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The id of the event at `index`.
    pub(crate) fn id(&self, index: usize) -> Option<i64> {
        self.ids.get(index).copied()
    }

    /// The id of the first event.
    pub(crate) fn first_id(&self) -> Option<i64> {
        self.ids.first().copied()
    }

    /// The id of the last event.
    pub(crate) fn last_id(&self) -> Option<i64> {
        self.ids.last().copied()
    }

    /// The JSON texts of the first `count` events.
    pub(crate) fn texts(&self, count: usize) -> Vec<&str> {
        (0..count.min(self.len()))
            .map(|index| {
                // An event's text ends where the comma before the next one, or the array's
                // closing bracket, is.
                let end = self
                    .starts
                    .get(index + 1)
                    .map_or(self.array.len() - 1, |next| next - 1);
                &self.array[self.starts[index]..end]
            })
            .collect()
    }

    /// The events from index `skip` on, as one JSON array: the encoded array itself when all
    /// of them.
    pub(crate) fn json_array_from(&self, skip: usize) -> Cow<'_, str> {
        match self.starts.get(skip) {
            _ if skip == 0 => Cow::Borrowed(&self.array),
            Some(&start) => Cow::Owned(format!("[{}", &self.array[start..])),
            None => Cow::Borrowed("[]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::events;

    #[test]
    fn the_array_and_its_parts_are_the_events_json() {
        let events = events(1..=3);
        let encoded = EncodedEvents::encode(&events);
        let each: Vec<String> = events
            .iter()
            .map(|event| serde_json::to_string(event).unwrap())
            .collect();

        assert_eq!(encoded.json_array_from(0), format!("[{}]", each.join(",")));
        assert_eq!(encoded.json_array_from(2), format!("[{}]", each[2]));
        assert_eq!(encoded.json_array_from(3), "[]");
        assert_eq!(encoded.texts(2), [each[0].as_str(), each[1].as_str()]);
        assert_eq!(encoded.texts(9).len(), 3);
        assert_eq!(
            (
                encoded.first_id(),
                encoded.last_id(),
                encoded.id(1),
                encoded.len()
            ),
            (Some(1), Some(3), Some(2), 3)
        );
        let nothing = EncodedEvents::encode(&[]);
        assert_eq!(
            (nothing.json_array_from(0), nothing.first_id()),
            ("[]".into(), None)
        );
    }
}
