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

mod bound {
    use std::collections::{BTreeMap, HashMap};

    use serde::{Serialize, Serializer};
    use serde_json::json;

    use super::super::{bound::surely_within, problem, Measure, MAX_DEPTH};

    #[derive(Serialize)]
    enum Shape {
        Dot,
        Circle(f64),
        Line(i64, i64),
        Rectangle { width: u32, height: u32 },
    }

    #[derive(Serialize)]
    #[serde(tag = "kind")]
    enum Tagged {
        One { value: String },
    }

    #[derive(Serialize)]
    struct Extra {
        note: Option<String>,
    }

    #[derive(Serialize)]
    struct Order {
        id: u64,
        customer: String,
        total: f64,
        paid: bool,
        shapes: Vec<Shape>,
        tags: BTreeMap<String, i32>,
        by_number: BTreeMap<u16, char>,
        tagged: Tagged,
        #[serde(flatten)]
        extra: Extra,
        unit: (),
        nothing: Option<u8>,
        wide: i128,
    }

    /// Written with `serialize_bytes`, as `serde_bytes` does.
    struct Bytes(Vec<u8>);

    impl Serialize for Bytes {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(&self.0)
        }
    }

    /// Written with `collect_str`, as `Display` types often are.
    struct Shown(&'static str);

    impl Serialize for Shown {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_str(self.0)
        }
    }

    fn order() -> Order {
        Order {
            id: u64::MAX,
            customer: "Zoë \"the\" \\ customer\n\u{1}".to_owned(),
            total: -1.797_693_134_862_315_7e308,
            paid: true,
            shapes: vec![
                Shape::Dot,
                Shape::Circle(0.1),
                Shape::Line(i64::MIN, 0),
                Shape::Rectangle {
                    width: 3,
                    height: 4,
                },
            ],
            tags: [("a".to_owned(), -1), ("\u{7f}".to_owned(), 0)].into(),
            by_number: [(7, '"'), (u16::MAX, '\u{1f}')].into(),
            tagged: Tagged::One {
                value: String::new(),
            },
            extra: Extra {
                note: Some("n".to_owned()),
            },
            unit: (),
            nothing: None,
            wide: i128::MIN,
        }
    }

    /// The bound never vouches for a value over the limit (it never says less than the exact
    /// size), and vouches for it when the limit leaves room for its worst case.
    fn check<T: Serialize>(value: &T) {
        let exact = Measure::of(value).expect("serialises");
        assert!(
            !surely_within(value, exact.bytes - 1),
            "the bound vouched for {} bytes under a limit of {}",
            exact.bytes,
            exact.bytes - 1
        );
        assert_eq!(
            surely_within(value, exact.bytes * 40 + 100),
            exact.depth <= MAX_DEPTH
        );
    }

    #[test]
    fn never_says_less_than_the_exact_size() {
        check(&order());
        check(&Bytes(vec![255, 0, 17]));
        check(&Bytes(Vec::new()));
        check(&Shown("a \"shown\" value"));
        check(&[Shape::Line(1, 2)]);
        check(&Vec::<u8>::new());
        check(&json!({"a": [1, [2, {"b": "[[[{\"}"}]], "c": "\\", "d": null, "e": 1.5}));
        check(&json!(u64::MAX));
        check(&json!(""));
    }

    /// Each variant with content opens levels as serde_json writes it: `{"Wrap":…}` one,
    /// `{"Pair":[…]}` and `{"Named":{…}}` two.
    #[derive(Serialize)]
    enum Tree {
        Leaf,
        Wrap(Box<Tree>),
        Pair(Box<Tree>, u8),
        Named { inner: Box<Tree> },
    }

    #[test]
    fn counts_nesting_as_the_exact_measure_does() {
        for levels in MAX_DEPTH - 3..MAX_DEPTH + 3 {
            let mut arrays = json!(0);
            for _ in 0..levels {
                arrays = json!([arrays]);
            }
            let mut tree = Tree::Leaf;
            for level in 0..levels / 2 {
                tree = match level % 3 {
                    0 => Tree::Wrap(Box::new(Tree::Wrap(Box::new(tree)))),
                    1 => Tree::Pair(Box::new(tree), 0),
                    _ => Tree::Named {
                        inner: Box::new(tree),
                    },
                };
            }
            for depth in [
                Measure::of(&arrays).expect("serialises").depth,
                Measure::of(&tree).expect("serialises").depth,
            ] {
                assert!(depth.abs_diff(levels) <= 1, "{depth} levels for {levels}");
            }
            assert_eq!(surely_within(&arrays, usize::MAX), levels <= MAX_DEPTH);
            let tree_depth = Measure::of(&tree).expect("serialises").depth;
            assert_eq!(surely_within(&tree, usize::MAX), tree_depth <= MAX_DEPTH);
            check(&tree);
        }
    }

    #[test]
    fn leaves_keys_serde_json_may_refuse_to_the_exact_measure() {
        let pairs: HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert!(!surely_within(&pairs, usize::MAX));
        assert!(problem(&pairs, usize::MAX).is_err());
        let flags: BTreeMap<bool, u8> = [(true, 1)].into();
        assert!(!surely_within(&flags, usize::MAX));
        assert_eq!(problem(&flags, usize::MAX).ok(), Some(None));
    }

    #[test]
    fn a_failing_serialize_is_serde_jsons_error() {
        struct Refuses;
        impl Serialize for Refuses {
            fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no JSON for this"))
            }
        }
        let error = problem(&Refuses, usize::MAX).expect_err("refused");
        assert!(error.to_string().contains("no JSON for this"));
    }

    #[test]
    fn too_large_is_said_in_exact_bytes() {
        let text = "x".repeat(1000);
        assert_eq!(problem(&text, 1002).expect("serialises"), None);
        let why = problem(&text, 1001)
            .expect("serialises")
            .expect("too large");
        assert!(why.contains("1002 bytes"), "{why}");
    }
}
