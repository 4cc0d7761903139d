//! The durable record of an endpoint's revoked serials, kept in a Secret beside the CA
//! (`<endpoint>-revocations`, owned by the endpoint): every revocation is written here before any
//! CRL is built, and every CRL is built from here only, so a restarted operator (or one that
//! lost a status) never imports a list missing a revoked serial.
//!
//! Pure. Binary, so 20,000 entries fit a Secret (at most ~41 bytes each, < 1 MiB).

/// AWS's limit of entries in a client certificate revocation list (not adjustable).
pub const MAX_CRL_ENTRIES: usize = 20_000;

const MAGIC: &[u8; 4] = b"CVR1";

/// One revoked certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Serial bytes, big-endian, as in the certificate.
    pub serial: Vec<u8>,
    /// The certificate's notAfter (unix seconds): after it the entry is dropped from the list.
    pub not_after: i64,
    /// From when the serial is revoked (unix seconds): now, or later for a certificate
    /// superseded by a renewal (its grace period).
    pub revoke_at: i64,
    /// [`Record::revision`] when the entry was added or last brought forward.
    pub added: u64,
}

/// What was last published: the list AWS holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Published {
    /// The record revision the list was built from (0: never published).
    pub revision: u64,
    /// The time the list was built: it holds every entry with `revoke_at` up to then.
    pub at: i64,
    /// The list's nextUpdate.
    pub next_update: i64,
    /// The list's CRL number (increases with every list).
    pub crl_number: u64,
    /// Whether `ExportClientVpnClientCertificateRevocationList` showed it `active`.
    pub active: bool,
}

/// An endpoint's revoked serials and what AWS holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// Increases with every change of an entry.
    pub revision: u64,
    pub published: Published,
    pub entries: Vec<Entry>,
}

/// The record's bytes cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the revocation record is damaged ({0}); it is never rewritten from scratch: restore it from a backup of the Secret"
)]
pub struct Damaged(&'static str);

impl Record {
    /// Reads the bytes [`Record::encode`] wrote.
    pub fn decode(bytes: &[u8]) -> Result<Self, Damaged> {
        let mut reader = Reader(bytes);
        if reader.take(4)? != MAGIC {
            return Err(Damaged("unknown format"));
        }
        let revision = reader.u64()?;
        let published = Published {
            revision: reader.u64()?,
            at: reader.i64()?,
            next_update: reader.i64()?,
            crl_number: reader.u64()?,
            active: reader.take(1)?[0] == 1,
        };
        let count = reader.u64()? as usize;
        let mut entries = Vec::with_capacity(count.min(MAX_CRL_ENTRIES * 2));
        for _ in 0..count {
            let len = reader.take(1)?[0] as usize;
            entries.push(Entry {
                serial: reader.take(len)?.to_vec(),
                not_after: reader.i64()?,
                revoke_at: reader.i64()?,
                added: reader.u64()?,
            });
        }
        if !reader.0.is_empty() {
            return Err(Damaged("trailing bytes"));
        }
        Ok(Record {
            revision,
            published,
            entries,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.entries.len() * 41);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.revision.to_be_bytes());
        let p = &self.published;
        out.extend_from_slice(&p.revision.to_be_bytes());
        out.extend_from_slice(&p.at.to_be_bytes());
        out.extend_from_slice(&p.next_update.to_be_bytes());
        out.extend_from_slice(&p.crl_number.to_be_bytes());
        out.push(u8::from(p.active));
        out.extend_from_slice(&(self.entries.len() as u64).to_be_bytes());
        for entry in &self.entries {
            let serial = &entry.serial[..entry.serial.len().min(255)];
            out.push(serial.len() as u8);
            out.extend_from_slice(serial);
            out.extend_from_slice(&entry.not_after.to_be_bytes());
            out.extend_from_slice(&entry.revoke_at.to_be_bytes());
            out.extend_from_slice(&entry.added.to_be_bytes());
        }
        out
    }

    /// The entry of `serial`.
    pub fn entry(&self, serial: &[u8]) -> Option<&Entry> {
        self.entries.iter().find(|e| e.serial == serial)
    }

    /// Revoke `serial` from `revoke_at` on; an entry already there keeps the earlier time.
    /// True when the record changed (and must be written).
    pub fn revoke(&mut self, serial: &[u8], not_after: i64, revoke_at: i64) -> bool {
        let revision = self.revision + 1;
        match self.entries.iter_mut().find(|e| e.serial == serial) {
            Some(entry) if entry.revoke_at <= revoke_at => return false,
            Some(entry) => {
                entry.revoke_at = revoke_at;
                entry.added = revision;
            }
            None => self.entries.push(Entry {
                serial: serial.to_vec(),
                not_after,
                revoke_at,
                added: revision,
            }),
        }
        self.revision = revision;
        true
    }

    /// Whether `serial` is on the list AWS holds, and whether that list is active.
    pub fn published(&self, serial: &[u8]) -> Option<bool> {
        let entry = self.entry(serial)?;
        let p = &self.published;
        (entry.added <= p.revision && entry.revoke_at <= p.at).then_some(p.active)
    }

    /// The entries a list built at `now` holds: revoked by now, not yet expired.
    pub fn due(&self, now: i64) -> Vec<&Entry> {
        self.entries
            .iter()
            .filter(|e| e.revoke_at <= now && e.not_after > now)
            .collect()
    }

    /// Drop entries whose certificates expired (they need no revocation any more); true when
    /// some were dropped.
    pub fn prune(&mut self, now: i64) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.not_after > now);
        before != self.entries.len()
    }

    /// Why a new list must be published at `now`, if it must: a due entry the published list
    /// lacks, or the published list within `refresh_before` seconds of its nextUpdate.
    pub fn publish_reason(&self, now: i64, refresh_before: i64) -> Option<&'static str> {
        let p = &self.published;
        let missing = self
            .due(now)
            .iter()
            .any(|e| e.added > p.revision || e.revoke_at > p.at);
        if missing {
            return Some("a revoked certificate is not on the list yet");
        }
        (p.revision > 0 && now >= p.next_update.saturating_sub(refresh_before))
            .then_some("the list nears its nextUpdate")
    }

    /// When the next entry becomes due after `now` (a superseded certificate's grace ends).
    pub fn next_due_after(&self, now: i64) -> Option<i64> {
        self.entries
            .iter()
            .map(|e| e.revoke_at)
            .filter(|at| *at > now)
            .min()
    }
}

/// Big-endian reads over a byte slice.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Damaged> {
        if self.0.len() < n {
            return Err(Damaged("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u64(&mut self) -> Result<u64, Damaged> {
        let bytes: [u8; 8] = self.take(8)?.try_into().map_err(|_| Damaged("truncated"))?;
        Ok(u64::from_be_bytes(bytes))
    }
    fn i64(&mut self) -> Result<i64, Damaged> {
        Ok(self.u64()? as i64)
    }
}

/// `07:71:f4` → bytes; None when it is not colon-separated hex.
pub fn serial_bytes(serial: &str) -> Option<Vec<u8>> {
    serial
        .split(':')
        .map(|byte| u8::from_str_radix(byte, 16).ok())
        .collect()
}

/// Bytes → `07:71:f4` (the form [`crate::certificates::RevokedSerial`] takes).
pub fn serial_text(serial: &[u8]) -> String {
    serial
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serial(n: u8) -> Vec<u8> {
        vec![
            0x40, n, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 1, 2, 3, 4, 5, 6, 7, n,
        ]
    }

    #[test]
    fn round_trips_and_twenty_thousand_entries_fit_a_secret() {
        let mut record = Record::default();
        for n in 0..MAX_CRL_ENTRIES as u32 {
            let mut s = serial(0);
            s[12..16].copy_from_slice(&n.to_be_bytes());
            record.revoke(&s, 2_000_000_000, 1_000);
        }
        record.published = Published {
            revision: 7,
            at: 5,
            next_update: 99,
            crl_number: 3,
            active: true,
        };
        let bytes = record.encode();
        assert!(bytes.len() < 1024 * 1024, "{} bytes", bytes.len());
        assert_eq!(Record::decode(&bytes), Ok(record));
    }

    #[test]
    fn damaged_bytes_are_refused_not_read_as_empty() {
        let mut bytes = Record::default().encode();
        bytes.pop();
        assert_eq!(Record::decode(&bytes), Err(Damaged("truncated")));
        assert_eq!(Record::decode(b"XXXX"), Err(Damaged("unknown format")));
    }

    #[test]
    fn revoking_again_keeps_the_earlier_time_and_changes_nothing() {
        let mut record = Record::default();
        assert!(record.revoke(&serial(1), 500, 100));
        assert!(!record.revoke(&serial(1), 500, 200));
        assert_eq!(record.revision, 1);
        // A superseded certificate revoked for good before its grace ended: brought forward.
        assert!(record.revoke(&serial(1), 500, 50));
        assert_eq!(record.entry(&serial(1)).map(|e| e.revoke_at), Some(50));
        assert_eq!(record.revision, 2);
    }

    #[test]
    fn publication_covers_entries_added_and_due_before_it() {
        let mut record = Record::default();
        record.revoke(&serial(1), 1_000, 10);
        record.revoke(&serial(2), 1_000, 300); // grace until 300
        assert_eq!(
            record.publish_reason(20, 50),
            Some("a revoked certificate is not on the list yet")
        );
        record.published = Published {
            revision: record.revision,
            at: 20,
            next_update: 500,
            crl_number: 1,
            active: false,
        };
        assert_eq!(record.published(&serial(1)), Some(false));
        assert_eq!(record.published(&serial(2)), None, "not due at 20");
        assert_eq!(record.publish_reason(20, 50), None);
        assert_eq!(record.next_due_after(20), Some(300));
        assert_eq!(
            record.publish_reason(300, 50),
            Some("a revoked certificate is not on the list yet")
        );
        record.published.at = 300;
        assert_eq!(record.publish_reason(300, 50), None);
        assert_eq!(
            record.publish_reason(450, 50),
            Some("the list nears its nextUpdate")
        );
    }

    #[test]
    fn expired_certificates_leave_the_list_and_the_record() {
        let mut record = Record::default();
        record.revoke(&serial(1), 100, 10);
        record.revoke(&serial(2), 1_000, 10);
        assert_eq!(record.due(200).len(), 1);
        assert!(record.prune(200));
        assert_eq!(record.entries.len(), 1);
        assert!(!record.prune(200));
    }

    #[test]
    fn serials_convert_both_ways() {
        assert_eq!(serial_bytes("07:71:f4"), Some(vec![7, 0x71, 0xf4]));
        assert_eq!(serial_text(&[7, 0x71, 0xf4]), "07:71:f4");
        assert_eq!(serial_bytes("zz"), None);
    }
}
