//! Canonical orders: ids handed out in arrival order (which can depend on
//! threads or row order) are renumbered by key before results use them.

/// Sorts `items` by `key` and returns old index -> new index.
pub(crate) fn sort_with_remap<T, K: Ord>(items: &mut Vec<T>, key: impl Fn(&T) -> K) -> Vec<u32> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| key(&items[i]));
    let mut remap = vec![0u32; order.len()];
    for (new, &old) in order.iter().enumerate() {
        remap[old] = new as u32;
    }
    let mut slots: Vec<Option<T>> = std::mem::take(items).into_iter().map(Some).collect();
    *items = order.iter().filter_map(|&i| slots[i].take()).collect();
    remap
}

#[cfg(test)]
mod tests {
    #[test]
    fn sorts_and_maps_old_to_new() {
        let mut v = vec!["c", "a", "b"];
        let remap = super::sort_with_remap(&mut v, |s| *s);
        assert_eq!(v, ["a", "b", "c"]);
        assert_eq!(remap, [2, 0, 1]);
    }
}
