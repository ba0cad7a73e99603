//! Indices into a model: of its states and of its scopes, each its own type so that one is
//! never taken for the other, and the vectors they index.

use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

use proc_macro2::{Literal, TokenStream};
use quote::ToTokens;

/// An index into [`IndexVec`]s of one kind.
pub(super) trait Idx: Copy {
    fn from_raw(raw: usize) -> Self;
    /// The index as a number: the position in the definition's lists.
    fn raw(self) -> usize;
}

/// A state of the model: its position in declaration order across every scope, as the
/// runtime's `StateId` numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct StateIndex(usize);

/// A scope of the model: 0 for the top level, then every Parallel branch and Map iteration in
/// the order their states are declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct ScopeIndex(usize);

impl ScopeIndex {
    /// The workflow's own scope.
    pub(super) const TOP: ScopeIndex = ScopeIndex(0);
}

impl Idx for StateIndex {
    fn from_raw(raw: usize) -> Self {
        StateIndex(raw)
    }

    fn raw(self) -> usize {
        self.0
    }
}

impl Idx for ScopeIndex {
    fn from_raw(raw: usize) -> Self {
        ScopeIndex(raw)
    }

    fn raw(self) -> usize {
        self.0
    }
}

/// A state index in generated code is the number of its `StateId`.
impl ToTokens for StateIndex {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        Literal::usize_suffixed(self.0).to_tokens(tokens);
    }
}

/// A vector indexed by `I` only.
#[derive(Debug, Clone)]
pub(super) struct IndexVec<I, T> {
    items: Vec<T>,
    index: PhantomData<fn(I)>,
}

impl<I: Idx, T> IndexVec<I, T> {
    pub(super) fn new() -> Self {
        IndexVec {
            items: Vec::new(),
            index: PhantomData,
        }
    }

    /// `count` copies of `value`, for `I`s below `count`.
    pub(super) fn filled(value: T, count: usize) -> Self
    where
        T: Clone,
    {
        IndexVec {
            items: vec![value; count],
            index: PhantomData,
        }
    }

    /// Adds `item`; its index.
    pub(super) fn push(&mut self, item: T) -> I {
        self.items.push(item);
        I::from_raw(self.items.len() - 1)
    }

    pub(super) fn len(&self) -> usize {
        self.items.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(super) fn indices(&self) -> impl Iterator<Item = I> {
        (0..self.items.len()).map(I::from_raw)
    }

    /// Every item with its index.
    pub(super) fn iter_enumerated(&self) -> impl Iterator<Item = (I, &T)> + '_ {
        self.items
            .iter()
            .enumerate()
            .map(|(raw, item)| (I::from_raw(raw), item))
    }

    pub(super) fn first(&self) -> Option<&T> {
        self.items.first()
    }
}

impl<I: Idx, T> Index<I> for IndexVec<I, T> {
    type Output = T;

    fn index(&self, index: I) -> &T {
        &self.items[index.raw()]
    }
}

impl<I: Idx, T> IndexMut<I> for IndexVec<I, T> {
    fn index_mut(&mut self, index: I) -> &mut T {
        &mut self.items[index.raw()]
    }
}

impl<I: Idx, T> FromIterator<T> for IndexVec<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(items: It) -> Self {
        IndexVec {
            items: items.into_iter().collect(),
            index: PhantomData,
        }
    }
}
