//! The disk of a machine that can lose power: for each file, what the last sync made durable and
//! the changes made since, in order. The files themselves are real (the page cache, which every
//! connection reads); this is what would be on the platter. A file's creation and deletion are
//! durable at once: the OS VFS syncs the directory when it creates a WAL, which is not what the
//! shim under test changes.

use rand::RngExt;
use rand::rngs::StdRng;
use std::collections::BTreeMap;

/// What survives of the changes not yet synced when the power goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// None of them: only what was synced.
    Synced,
    /// The first few, in order, the last of them torn at a sector.
    Prefix,
    /// Any sectors of them, in any order (each change's piece of a sector is kept or not).
    Sectors,
}

/// The unit a disk writes whole; a change not yet synced may be torn at any of its boundaries.
/// Smaller than SQLite's 4096 (it assumes powersafe overwrite: a write never damages the bytes
/// around it, which holds here).
const SECTOR: u64 = 512;

enum Change {
    Write { offset: u64, data: Vec<u8> },
    Truncate(u64),
}

impl Change {
    fn apply(&self, image: &mut Vec<u8>) {
        match self {
            Change::Write { offset, data } => write_at(image, *offset, data),
            Change::Truncate(size) => image.resize(*size as usize, 0),
        }
    }

    /// The change as the disk may persist it: pieces that each lie in one sector.
    fn pieces(&self) -> Vec<Change> {
        let Change::Write { offset, data } = self else {
            return vec![Change::Truncate(self.size())];
        };
        let mut pieces = Vec::new();
        let mut at = *offset;
        let end = offset + data.len() as u64;
        while at < end {
            let next = ((at / SECTOR + 1) * SECTOR).min(end);
            let slice = &data[(at - offset) as usize..(next - offset) as usize];
            pieces.push(Change::Write {
                offset: at,
                data: slice.to_vec(),
            });
            at = next;
        }
        pieces
    }

    fn size(&self) -> u64 {
        match self {
            Change::Write { offset, data } => offset + data.len() as u64,
            Change::Truncate(size) => *size,
        }
    }
}

fn write_at(image: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let (start, end) = (offset as usize, offset as usize + data.len());
    if image.len() < end {
        image.resize(end, 0);
    }
    image[start..end].copy_from_slice(data);
}

/// A file on the disk: `None` once deleted.
#[derive(Default)]
struct File {
    durable: Option<Vec<u8>>,
    pending: Vec<Change>,
}

/// The disk, and when its power goes: at the `cut_at`-th change or sync (counted from 1).
pub struct Disk {
    files: BTreeMap<String, File>,
    calls: u64,
    cut_at: u64,
    cut: bool,
    /// Whether the sync the power is cut in reaches the platter (its caller sees a failure).
    sync_lands_at_cut: bool,
    /// The longest write to a WAL file: more than a frame when the shim above gathered it.
    pub longest_wal_write: usize,
    /// Writes to other files: in WAL mode, the database file's are checkpoints'.
    pub other_writes: u64,
}

/// Whether a change may go ahead: not once the power is gone.
#[derive(Debug, PartialEq, Eq)]
pub enum Power {
    On,
    /// Cut at this call: it fails, as does everything after it.
    Cut,
}

impl Disk {
    pub fn new(cut_at: u64, sync_lands_at_cut: bool) -> Disk {
        Disk {
            files: BTreeMap::new(),
            calls: 0,
            cut_at,
            cut: false,
            sync_lands_at_cut,
            longest_wal_write: 0,
            other_writes: 0,
        }
    }

    pub fn is_cut(&self) -> bool {
        self.cut
    }

    /// Changes and syncs made so far.
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// Cuts the power now (if the run ended before the planned cut).
    pub fn cut(&mut self) {
        self.cut = true;
    }

    /// Counts a change or sync about to be made; the planned cut happens here.
    pub fn tick(&mut self) -> Power {
        if self.cut {
            return Power::Cut;
        }
        self.calls += 1;
        if self.calls >= self.cut_at {
            self.cut = true;
            return Power::Cut;
        }
        Power::On
    }

    /// A file opened: its durable image is `existing()` the first time it is seen (a file put
    /// there before the machine started, as if synced), and after a deletion.
    pub fn open(&mut self, name: &str, existing: impl FnOnce() -> Vec<u8>) {
        let file = self.files.entry(name.to_string()).or_default();
        if file.durable.is_none() {
            file.durable = Some(existing());
            file.pending.clear();
        }
    }

    pub fn wrote(&mut self, name: &str, offset: u64, data: &[u8]) {
        self.file(name).pending.push(Change::Write {
            offset,
            data: data.to_vec(),
        });
    }

    pub fn truncated(&mut self, name: &str, size: u64) {
        self.file(name).pending.push(Change::Truncate(size));
    }

    /// A sync of `name` returned: its changes are durable.
    pub fn synced(&mut self, name: &str) {
        let file = self.file(name);
        let durable = file.durable.get_or_insert_with(Vec::new);
        for change in file.pending.drain(..) {
            change.apply(durable);
        }
    }

    /// A sync of `name` in which the power is cut.
    pub fn sync_at_cut(&mut self, name: &str) {
        if self.sync_lands_at_cut {
            self.synced(name);
        }
    }

    /// A deletion: durable at once (SQLite deletes a WAL only once it is checkpointed and the
    /// database synced, so a lost deletion would change nothing either).
    pub fn deleted(&mut self, name: &str) {
        let file = self.file(name);
        file.durable = None;
        file.pending.clear();
    }

    fn file(&mut self, name: &str) -> &mut File {
        self.files.entry(name.to_string()).or_default()
    }

    /// What the disk holds after the power cut, under `model`: each file that exists, by name.
    pub fn survivors(&self, model: Model, rng: &mut StdRng) -> BTreeMap<String, Vec<u8>> {
        let mut images = BTreeMap::new();
        for (name, file) in &self.files {
            let Some(durable) = &file.durable else {
                continue;
            };
            let mut image = durable.clone();
            match model {
                Model::Synced => {}
                Model::Prefix => {
                    let whole = rng.random_range(0..=file.pending.len());
                    for change in &file.pending[..whole] {
                        change.apply(&mut image);
                    }
                    if let Some(torn) = file.pending.get(whole) {
                        let pieces = torn.pieces();
                        let kept = rng.random_range(0..=pieces.len());
                        for piece in &pieces[..kept] {
                            piece.apply(&mut image);
                        }
                    }
                }
                Model::Sectors => {
                    for piece in file.pending.iter().flat_map(Change::pieces) {
                        if rng.random::<bool>() {
                            piece.apply(&mut image);
                        }
                    }
                }
            }
            images.insert(name.clone(), image);
        }
        images
    }
}

#[test]
fn only_synced_changes_are_sure_to_survive_and_torn_ones_tear_at_sectors() {
    use rand::SeedableRng;
    let mut disk = Disk::new(u64::MAX, false);
    disk.open("f", || vec![1; 1000]);
    disk.wrote("f", 0, &[2; 1000]);
    disk.synced("f");
    disk.wrote("f", 100, &[3; 1000]);
    disk.truncated("f", 600);
    let rng = &mut StdRng::seed_from_u64(1);
    assert_eq!(disk.survivors(Model::Synced, rng)["f"], vec![2; 1000]);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..200 {
        for model in [Model::Prefix, Model::Sectors] {
            let image = disk.survivors(model, rng)["f"].clone();
            // Bytes change only where a change was, and in whole pieces of a sector.
            assert!(image[..100].iter().all(|&b| b == 2));
            for piece in [&image[100..512], &image[512..image.len().min(1000)]] {
                assert!(
                    piece.iter().all(|&b| b == piece[0]),
                    "{model:?}: a torn piece"
                );
            }
            seen.insert(image.len());
        }
    }
    assert!(seen.contains(&600) && seen.contains(&1000) && seen.contains(&1100));
    disk.deleted("f");
    assert!(disk.survivors(Model::Sectors, rng).is_empty());
}
