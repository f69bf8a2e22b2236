//! The parts' readers: held open (readers given to [`super::concat`]) or
//! reopened on demand through an [`Opener`] and kept in a small
//! least-recently-used cache.

use crate::{Reader, Result};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

/// Opens a source by its location (as the user gave it), for
/// [`super::concat_lazy`].
pub type Opener = Arc<dyn Fn(&str) -> Result<Box<dyn Reader>> + Send + Sync>;

/// Where the parts' readers come from.
pub(super) struct Readers {
    /// Opened by the caller and held for the reader's life.
    pinned: Vec<Arc<dyn Reader>>,
    /// Opens a part again when it is read.
    opener: Option<Opener>,
    /// Recently used readers, most recent last.
    cache: Mutex<Vec<(usize, Arc<dyn Reader>)>>,
    capacity: usize,
}

impl Readers {
    pub(super) fn pinned(readers: Vec<Arc<dyn Reader>>) -> Readers {
        Readers {
            pinned: readers,
            opener: None,
            cache: Mutex::new(Vec::new()),
            capacity: 0,
        }
    }

    pub(super) fn lazy(opener: Opener, capacity: usize) -> Readers {
        Readers {
            pinned: Vec::new(),
            opener: Some(opener),
            cache: Mutex::new(Vec::new()),
            capacity: capacity.max(1),
        }
    }

    /// Part `index` at `location`, opened now when it is neither pinned nor
    /// cached; not cached afterwards (the checks open every file once).
    pub(super) fn open_once(&self, index: usize, location: &str) -> Result<Arc<dyn Reader>> {
        if let Some(r) = self.pinned.get(index) {
            return Ok(r.clone());
        }
        match &self.opener {
            Some(open) => Ok(Arc::from(open(location)?)),
            None => Err(crate::concat::ConcatError {
                dim: String::new(),
                files: vec![location.to_string()],
                message: format!("{location} is not open and there is no way to open it"),
            }
            .into()),
        }
    }

    /// Part `index`, from the cache or opened (and cached); a reopened part
    /// must have the metadata it had when it was checked (`fingerprint`).
    pub(super) fn get(
        &self,
        index: usize,
        location: &str,
        fingerprint: u64,
    ) -> Result<Arc<dyn Reader>> {
        if let Some(r) = self.pinned.get(index) {
            return Ok(r.clone());
        }
        {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(at) = cache.iter().position(|(i, _)| *i == index) {
                let entry = cache.remove(at);
                let reader = entry.1.clone();
                cache.push(entry);
                return Ok(reader);
            }
        }
        let reader = self.open_once(index, location)?;
        let now = fingerprint_of(reader.as_ref());
        if now != fingerprint {
            return Err(crate::concat::ConcatError {
                dim: String::new(),
                files: vec![location.to_string()],
                message: format!(
                    "{location} changed since the files were checked (its metadata differ now); run the command again"
                ),
            }
            .into());
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if !cache.iter().any(|(i, _)| *i == index) {
            cache.push((index, reader.clone()));
            while cache.len() > self.capacity {
                cache.remove(0);
            }
        }
        Ok(reader)
    }

    /// How many readers are held open now (pinned and cached).
    pub(super) fn held(&self) -> usize {
        self.pinned.len() + self.cache.lock().map_or(0, |c| c.len())
    }
}

/// A hash of a source's whole metadata tree (its `Debug` text, streamed
/// into the hasher): equal when the file has not changed.
pub(super) fn fingerprint_of(reader: &dyn Reader) -> u64 {
    struct HashWriter(std::collections::hash_map::DefaultHasher);
    impl std::fmt::Write for HashWriter {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            s.hash(&mut self.0);
            Ok(())
        }
    }
    let mut w = HashWriter(std::collections::hash_map::DefaultHasher::new());
    let _ = std::fmt::write(&mut w, format_args!("{:?}", reader.dataset()));
    w.0.finish()
}
