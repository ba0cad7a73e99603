//! A distributed Map state's `ItemReader` and `ItemBatcher`: its items are read, once its
//! map run has started, from what the reader's resource answers (an S3 object, for
//! `arn:aws:states:::s3:getObject`), by the handler registered for that resource or state;
//! they are parsed as JSON, JSON Lines or CSV, limited to `MaxItems`, and grouped in batches.

use serde_json::{json, Map, Value};
use workflow_runtime::ExecutionFailure;

use workflow_core::definition::StateId;

use super::handlers::{Handlers, TaskCall};
use super::machine::{AslInput, Run};
use crate::definition::{Map as MapState, QueryLanguage};
use crate::error::DataError;
use crate::path::{JsonPath, Scope};
use crate::pointer::Pointer;
use crate::template::Template;

/// The error of an item reader that cannot read its items.
const ITEM_READER_FAILED: &str = "States.ItemReaderFailed";

/// How the reader's answer is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InputType {
    Json,
    JsonLines,
    Csv,
}

/// What one run of a Map state reads: its request to the reader's resource, worked out in
/// the state's query language, and the limits read from its input.
pub(super) struct Reading {
    resource: String,
    request: Value,
    input_type: InputType,
    /// The CSV columns, when given rather than read from the first row.
    headers: Option<Vec<String>>,
    /// `MaxItems` (0: all); an invalid value fails the map run.
    max_items: Result<u64, ExecutionFailure>,
    batching: Option<Batching>,
}

/// `ItemBatcher`: how items are grouped, each group one child execution's input.
struct Batching {
    /// `MaxItemsPerBatch` (0: no limit).
    max_items: u64,
    /// `MaxInputBytesPerBatch` (0: no limit).
    max_bytes: u64,
    /// `BatchInput`, added to every batch.
    batch_input: Option<Value>,
}

impl Reading {
    /// The items read: the resource's answer parsed, limited, each through `select` (the
    /// state's `ItemSelector`, given the item's index and value), then batched.
    pub(super) async fn read(
        &self,
        run: &Run<'_, '_>,
        select: impl Fn(usize, &Value) -> Result<Value, ExecutionFailure>,
    ) -> Result<Vec<Value>, ExecutionFailure> {
        let failed =
            |cause: String| ExecutionFailure::new(Some(&run.state.name), ITEM_READER_FAILED, cause);
        let max_items = self.max_items.clone()?;
        let answer = self.call(run).await?;
        let mut items = parse(answer, self.input_type, self.headers.as_deref()).map_err(failed)?;
        if max_items > 0 {
            items.truncate(usize::try_from(max_items).unwrap_or(usize::MAX));
        }
        let selected = items
            .iter()
            .enumerate()
            .map(|(index, item)| select(index, item))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(match &self.batching {
            Some(batching) => batches(selected, batching),
            None => selected,
        })
    }

    /// The reader's resource's answer, from its handler.
    async fn call(&self, run: &Run<'_, '_>) -> Result<Value, ExecutionFailure> {
        let cx = run.cx;
        let workflow = &cx.workflow_definition().name;
        let handler = cx.resource::<Handlers>().and_then(|handlers| {
            handlers.handler_for(workflow, &run.state.name, &self.resource, &self.request)
        });
        let Some(handler) = handler else {
            return Err(run.failure(&DataError::runtime(format!(
                "no handler reads the items of state '{}' (resource '{}'): register one in `workflow::asl::Handlers`",
                run.state.name, self.resource
            ))));
        };
        let call = TaskCall {
            input: self.request.clone(),
            context: cx.step_context(run.id, "ItemReader", 1),
            token: None,
        };
        handler(call).await.map_err(|error| {
            ExecutionFailure::new(Some(&run.state.name), &error.error, error.cause)
        })
    }
}

/// The MaxItems setting's value: a whole number, 0 or more.
pub(super) fn max_items_of(value: &Value) -> Result<u64, String> {
    match value.as_i64() {
        Some(count) if count >= 0 => Ok(count.unsigned_abs()),
        Some(_) => Err("field MaxItems must be positive".to_owned()),
        None => Err(format!(
            "field MaxItems must be a whole number, not {value}"
        )),
    }
}

/// The items of a reader's answer: a list as it is, or the text of an object (also as the
/// `Body` of an S3 `GetObject` answer) parsed as `input_type`.
fn parse(
    answer: Value,
    input_type: InputType,
    headers: Option<&[String]>,
) -> Result<Vec<Value>, String> {
    let text = match answer {
        Value::Array(items) => return Ok(items),
        Value::String(text) => text,
        Value::Object(mut object) => match object.remove("Body") {
            Some(Value::String(text)) => text,
            Some(Value::Array(items)) => return Ok(items),
            _ => return Err("the item reader's answer has no Body".to_owned()),
        },
        other => {
            return Err(format!(
                "the item reader's answer is not a list or a text: {other}"
            ))
        }
    };
    match input_type {
        InputType::Json => match serde_json::from_str(&text) {
            Ok(Value::Array(items)) => Ok(items),
            Ok(_) => Err("Attempting to map over non-iterable node.".to_owned()),
            Err(error) => Err(format!("the object is not JSON: {error}")),
        },
        InputType::JsonLines => text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line).map_err(|error| format!("a line is not JSON: {error}"))
            })
            .collect(),
        InputType::Csv => csv_rows(&text, headers),
    }
}

/// CSV rows as objects by column: the header row first unless `given`; a missing field is
/// empty, a field beyond the columns is left out.
fn csv_rows(text: &str, given: Option<&[String]>) -> Result<Vec<Value>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let headers: Vec<String> = match given {
        Some(given) => given.to_vec(),
        None => match records.next() {
            Some(row) => row
                .map_err(|error| error.to_string())?
                .iter()
                .map(str::to_owned)
                .collect(),
            None => return Ok(Vec::new()),
        },
    };
    records
        .map(|row| {
            let row = row.map_err(|error| error.to_string())?;
            let object: Map<String, Value> = headers
                .iter()
                .enumerate()
                .map(|(index, header)| (header.clone(), json!(row.get(index).unwrap_or_default())))
                .collect();
            Ok(Value::Object(object))
        })
        .collect()
}

/// Items grouped in batches `{"Items": [...], "BatchInput": ...}` of at most the batcher's
/// item count and JSON size.
fn batches(items: Vec<Value>, batching: &Batching) -> Vec<Value> {
    let batch = |items: Vec<Value>| {
        let mut batch = json!({"Items": items});
        if let Some(input) = &batching.batch_input {
            batch["BatchInput"] = input.clone();
        }
        batch
    };
    let mut batches = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut bytes = 0u64;
    for item in items {
        let size = u64::try_from(item.to_string().len()).unwrap_or(u64::MAX);
        let full_count = batching.max_items > 0 && current.len() as u64 >= batching.max_items;
        let full_bytes = batching.max_bytes > 0 && bytes.saturating_add(size) > batching.max_bytes;
        if !current.is_empty() && (full_count || full_bytes) {
            batches.push(batch(std::mem::take(&mut current)));
            bytes = 0;
        }
        bytes = bytes.saturating_add(size);
        current.push(item);
    }
    if !current.is_empty() {
        batches.push(batch(current));
    }
    batches
}

/// Where a distributed Map state's items come from when it has an `ItemReader`: what its
/// map run reads, and what each item goes through.
pub(super) struct ItemSource<'m> {
    pub(super) reading: Reading,
    pub(super) map: &'m MapState,
    /// The state's input (after `InputPath`), which `ItemSelector` reads besides the item.
    pub(super) input: Value,
    /// Where each child execution starts.
    pub(super) start: StateId,
}

impl Run<'_, '_> {
    /// The item source of Map state `map` on `input` (after `InputPath`), if it has a reader:
    /// its request, `MaxItems` and batcher worked out in the state's query language.
    pub(super) fn item_source<'m>(
        &self,
        map: &'m MapState,
        input: &Value,
        start: StateId,
    ) -> Result<Option<ItemSource<'m>>, ExecutionFailure> {
        let Some(reader) = map.distributed_fields.get("ItemReader") else {
            return Ok(None);
        };
        let config = &reader["ReaderConfig"];
        let request_field = match self.state.query_language {
            QueryLanguage::JsonPath => "Parameters",
            QueryLanguage::Jsonata => "Arguments",
        };
        let request = self
            .worked(reader.get(request_field), request_field, input)?
            .unwrap_or_else(|| json!({}));
        // An invalid MaxItems fails the map run, once started.
        let max_items = self
            .setting(config, "MaxItems", input)
            .and_then(|value| match value {
                Some(value) => max_items_of(&value).map_err(|cause| {
                    ExecutionFailure::new(Some(&self.state.name), ITEM_READER_FAILED, cause)
                }),
                None => Ok(0),
            });
        let batching = match map.distributed_fields.get("ItemBatcher") {
            Some(batcher) => Some(Batching {
                max_items: self.count(batcher, "MaxItemsPerBatch", input)?,
                max_bytes: self.count(batcher, "MaxInputBytesPerBatch", input)?,
                batch_input: self.worked(batcher.get("BatchInput"), "BatchInput", input)?,
            }),
            None => None,
        };
        let (resource, input_type, headers) = self.reader_format(reader)?;
        let reading = Reading {
            resource,
            request,
            input_type,
            headers,
            max_items,
            batching,
        };
        Ok(Some(ItemSource {
            reading,
            map,
            input: input.clone(),
            start,
        }))
    }

    /// What `reader` (the state's `ItemReader`) calls, and how its answer is parsed: its
    /// resource, input type, and CSV columns when given rather than read from the first row.
    fn reader_format(
        &self,
        reader: &Value,
    ) -> Result<(String, InputType, Option<Vec<String>>), ExecutionFailure> {
        let fail = |why: String| self.failure(&DataError::runtime(why));
        let resource = reader["Resource"]
            .as_str()
            .ok_or_else(|| fail("the ItemReader has no Resource".to_owned()))?
            .to_owned();
        let config = &reader["ReaderConfig"];
        let input_type = match config["InputType"].as_str() {
            None | Some("JSON") => InputType::Json,
            Some("JSONL") => InputType::JsonLines,
            Some("CSV") => InputType::Csv,
            Some(other) => {
                return Err(fail(format!(
                    "the ItemReader's InputType {other} is not supported: JSON, JSONL or CSV"
                )))
            }
        };
        let headers = match config["CSVHeaderLocation"].as_str() {
            Some("GIVEN") => Some(
                config["CSVHeaders"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|header| header.as_str().unwrap_or_default().to_owned())
                    .collect(),
            ),
            _ => None,
        };
        Ok((resource, input_type, headers))
    }

    /// The items `source` reads, each the input of one child execution.
    pub(super) async fn read_items(
        &self,
        source: &ItemSource<'_>,
    ) -> Result<Vec<AslInput>, ExecutionFailure> {
        let items = source
            .reading
            .read(self, |index, item| {
                self.select_item(source.map, &source.input, index, item)
            })
            .await?;
        Ok(items
            .into_iter()
            .map(|item| AslInput::branch(item, source.start, self))
            .collect())
    }

    /// A template field (`Parameters`, `BatchInput`; `Arguments` in JSONata) worked out on
    /// `input`.
    fn worked(
        &self,
        field: Option<&Value>,
        name: &str,
        input: &Value,
    ) -> Result<Option<Value>, ExecutionFailure> {
        let Some(field) = field else {
            return Ok(None);
        };
        let fail = |error: DataError| self.failure(&error);
        match self.state.query_language {
            QueryLanguage::JsonPath => {
                let template = Template::parse(field, &Pointer::root()).map_err(|problems| {
                    let why = problems
                        .first()
                        .map(|(at, why)| format!("{at}: {why}"))
                        .unwrap_or_default();
                    fail(DataError::runtime(format!(
                        "the {name} field is invalid: {why}"
                    )))
                })?;
                let context = self.context(None);
                let around = self.around(&context);
                template
                    .evaluate(&Scope { input, ..around })
                    .map(Some)
                    .map_err(fail)
            }
            QueryLanguage::Jsonata => {
                let states = self.states(input, None, None);
                self.evaluated(Some(field), name, &Value::Null, &states)
                    .map(Some)
            }
        }
    }

    /// A setting `name` of `object`, written or (JSONPath) read from the input with
    /// `namePath`.
    fn setting(
        &self,
        object: &Value,
        name: &str,
        input: &Value,
    ) -> Result<Option<Value>, ExecutionFailure> {
        if let Some(value) = object.get(name) {
            return self.worked(Some(value), name, input);
        }
        let path_name = format!("{name}Path");
        let Some(path) = object.get(&path_name).and_then(Value::as_str) else {
            return Ok(None);
        };
        let fail = |why: String| self.failure(&DataError::runtime(why));
        let path = JsonPath::parse(path).map_err(|why| fail(format!("{path_name}: {why}")))?;
        let context = self.context(None);
        let around = self.around(&context);
        path.select(&Scope { input, ..around })
            .map(Some)
            .map_err(|error| self.failure(&error))
    }

    /// A batcher's count setting (0 when unset).
    fn count(&self, batcher: &Value, name: &str, input: &Value) -> Result<u64, ExecutionFailure> {
        match self.setting(batcher, name, input)? {
            None => Ok(0),
            // A number, or a string holding one (as a variable assigned "2" does).
            Some(value) => value
                .as_u64()
                .or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()))
                .ok_or_else(|| {
                    self.failure(&DataError::runtime(format!(
                        "The {name} field must be a whole number, not {value}"
                    )))
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_pad_missing_fields_and_drop_extra_ones() {
        let rows = csv_rows("A,B\n1,2\n,,,\n   \n", None).unwrap();
        assert_eq!(
            rows,
            [
                json!({"A": "1", "B": "2"}),
                json!({"A": "", "B": ""}),
                json!({"A": "   ", "B": ""})
            ]
        );
    }

    #[test]
    fn answers_parse_by_their_input_type() {
        let lines = json!({"Body": "{\"a\": 1}\n\n{\"a\": 2}\n"});
        assert_eq!(
            parse(lines, InputType::JsonLines, None).unwrap(),
            [json!({"a": 1}), json!({"a": 2})]
        );
        let given = vec!["x".to_owned(), "y".to_owned()];
        assert_eq!(
            parse(json!("1,2\n3\n"), InputType::Csv, Some(&given)).unwrap(),
            [json!({"x": "1", "y": "2"}), json!({"x": "3", "y": ""})]
        );
        assert_eq!(parse(json!([7]), InputType::Csv, None).unwrap(), [json!(7)]);
        assert!(parse(json!("{}"), InputType::Json, None).is_err());
    }

    #[test]
    fn batches_hold_at_most_their_count() {
        let batching = Batching {
            max_items: 2,
            max_bytes: 0,
            batch_input: Some(json!({"run": 1})),
        };
        let grouped = batches(vec![json!(1), json!(2), json!(3)], &batching);
        assert_eq!(
            grouped,
            [
                json!({"Items": [1, 2], "BatchInput": {"run": 1}}),
                json!({"Items": [3], "BatchInput": {"run": 1}})
            ]
        );
    }
}
