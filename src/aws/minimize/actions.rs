//! Catalog actions by position, and compact sets of them.
//!
//! An identity holding `AdministratorAccess` is granted every one of the catalog's ~22,000
//! actions. Steps that look at every granted action work on positions in the catalog's own
//! order (services by prefix, then actions by name) instead of names, and a set of actions is
//! stored as runs of consecutive positions: the actions a statement grants are mostly whole
//! services or name ranges, so a set of 20,000 actions takes a few hundred runs.

use crate::catalog::{Action, Catalog, Service};

/// Positions of the catalog's actions: the position of each service's first action.
pub(crate) struct ActionIndex<'c> {
    services: &'c [Service],
    /// `offsets[i]` is the position of service `i`'s first action; the last entry is the
    /// number of actions.
    offsets: Vec<u32>,
}

impl<'c> ActionIndex<'c> {
    pub fn new(catalog: &'c Catalog) -> ActionIndex<'c> {
        let services = catalog.services();
        let mut offsets = Vec::with_capacity(services.len() + 1);
        let mut position = 0u32;
        for service in services {
            offsets.push(position);
            position += service.actions.len() as u32;
        }
        offsets.push(position);
        ActionIndex { services, offsets }
    }

    /// How many actions the catalog holds.
    pub fn len(&self) -> usize {
        self.offsets.last().copied().unwrap_or(0) as usize
    }

    /// The position of a catalog entry (one borrowed from this index's catalog).
    pub fn position(&self, action: &Action) -> Option<u32> {
        let service = element_index(self.services, self.service_of(action)?)?;
        let within = element_index(&self.services[service].actions, action)?;
        Some(self.offsets[service] + within as u32)
    }

    fn service_of(&self, action: &Action) -> Option<&'c Service> {
        let prefix = action.service();
        let found = self
            .services
            .binary_search_by(|service| service.prefix.as_str().cmp(prefix))
            .ok()
            .map(|index| &self.services[index]);
        // Prefixes are sorted byte-wise; a catalog whose prefixes differ from their actions'
        // only in case is searched the long way.
        found.or_else(|| {
            self.services.iter().find(|service| {
                service
                    .actions
                    .iter()
                    .any(|entry| std::ptr::eq(entry, action))
            })
        })
    }

    /// The action at a position.
    pub fn get(&self, position: u32) -> Option<&'c Action> {
        let service = self.offsets.partition_point(|&offset| offset <= position);
        let service = service.checked_sub(1)?;
        self.services
            .get(service)?
            .actions
            .get((position - self.offsets[service]) as usize)
    }

    /// The positions of one service's actions.
    pub fn service_range(&self, service: &Service) -> Option<std::ops::Range<u32>> {
        let index = element_index(self.services, service)?;
        Some(self.offsets[index]..self.offsets[index + 1])
    }

    /// Every action with its position, in catalog order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &'c Action)> + '_ {
        self.services
            .iter()
            .zip(&self.offsets)
            .flat_map(|(service, &offset)| {
                service
                    .actions
                    .iter()
                    .enumerate()
                    .map(move |(index, action)| (offset + index as u32, action))
            })
    }
}

/// The index of `item` in `slice` when it is one of the slice's own elements.
fn element_index<T>(slice: &[T], item: &T) -> Option<usize> {
    let size = std::mem::size_of::<T>().max(1);
    let offset = (std::ptr::from_ref(item) as usize).checked_sub(slice.as_ptr() as usize)?;
    (offset % size == 0 && offset / size < slice.len()).then_some(offset / size)
}

/// A set of catalog positions, as sorted, disjoint, non-adjacent runs `start..end`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Runs {
    runs: Vec<(u32, u32)>,
    len: usize,
}

impl Runs {
    /// Adds a position greater than every position added before.
    pub fn push(&mut self, position: u32) {
        self.len += 1;
        match self.runs.last_mut() {
            Some((_, end)) if *end == position => *end += 1,
            _ => self.runs.push((position, position + 1)),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn into_boxed(mut self) -> Box<[(u32, u32)]> {
        self.runs.shrink_to_fit();
        self.runs.into_boxed_slice()
    }
}

/// The actions of some runs, in catalog order.
pub(crate) fn actions_of<'c>(
    index: &ActionIndex<'c>,
    runs: &[(u32, u32)],
) -> impl Iterator<Item = &'c Action> {
    runs.iter()
        .flat_map(|&(start, end)| start..end)
        .filter_map(|position| index.get(position))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_through_the_whole_catalog() {
        let catalog = Catalog::aws().unwrap();
        let index = ActionIndex::new(catalog);
        assert_eq!(index.len(), catalog.len());
        for (expected, (position, action)) in index.iter().enumerate() {
            assert_eq!(position as usize, expected);
            assert_eq!(index.position(action), Some(position), "{}", action.name);
            assert!(std::ptr::eq(index.get(position).unwrap(), action));
        }
        assert!(index.get(index.len() as u32).is_none());
        let s3 = catalog.service("s3").unwrap();
        let range = index.service_range(s3).unwrap();
        assert_eq!(range.len(), s3.actions.len());
        assert_eq!(index.get(range.start).unwrap().service(), "s3");
        // An action that is not the catalog's own entry has no position.
        let copy = catalog.action("s3:GetObject").unwrap().clone();
        assert_eq!(index.position(&copy), None);
    }

    #[test]
    fn runs_merge_consecutive_positions() {
        let mut runs = Runs::default();
        for position in [1, 2, 3, 7, 9, 10] {
            runs.push(position);
        }
        assert_eq!(runs.len(), 6);
        assert_eq!(&*runs.into_boxed(), &[(1, 4), (7, 8), (9, 11)]);
    }
}
