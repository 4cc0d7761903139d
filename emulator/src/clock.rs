//! Time: one snapshot per request (monotonic for lifecycles, wall clock for timestamps) and the
//! EC2 timestamp format.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The time a request is processed at.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub instant: Instant,
    pub wall: SystemTime,
}

impl Now {
    pub fn read() -> Self {
        Self {
            instant: Instant::now(),
            wall: SystemTime::now(),
        }
    }

    /// The instant `delay` from now.
    pub fn after(&self, delay: Duration) -> Instant {
        self.instant + delay
    }

    /// The wall-clock time of an earlier (or later) instant.
    pub fn wall_at(&self, at: Instant) -> SystemTime {
        if at <= self.instant {
            self.wall - (self.instant - at)
        } else {
            self.wall + (at - self.instant)
        }
    }
}

/// `2019-07-08T11:37:27` — UTC, no zone suffix, no fraction, as EC2 reports Client VPN times.
pub fn format_ec2_time(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// `2019-08-12 07:58:34` — UTC with a space and no zone, as DescribeClientVpnConnections
/// reports times.
pub fn format_connection_time(time: SystemTime) -> String {
    format_ec2_time(time).replacen('T', " ", 1)
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_ec2() {
        let t = UNIX_EPOCH + Duration::from_secs(1_562_585_847); // 2019-07-08T11:37:27Z
        assert_eq!(format_ec2_time(t), "2019-07-08T11:37:27");
        assert_eq!(format_ec2_time(UNIX_EPOCH), "1970-01-01T00:00:00");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(format_ec2_time(leap), "2000-02-29T00:00:00");
        assert_eq!(format_connection_time(t), "2019-07-08 11:37:27");
    }

    #[test]
    fn wall_at_maps_instants() {
        let now = Now::read();
        let earlier = now.instant - Duration::from_secs(5);
        assert_eq!(now.wall_at(earlier), now.wall - Duration::from_secs(5));
        assert_eq!(
            now.wall_at(now.after(Duration::from_secs(2))),
            now.wall + Duration::from_secs(2)
        );
    }
}
