//! Simulated time. Linux reads `jiffies` and `ktime_get()`; the engine never
//! reads a clock: every timestamp is a [`SimTime`] passed in by the caller, so
//! a run is a pure function of its inputs.

use serde::{Deserialize, Serialize};

/// Microseconds since the lab started.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct SimTime(pub u64);

impl SimTime {
    pub fn from_secs_f64(s: f64) -> SimTime {
        SimTime((s * 1e6).round().max(0.0) as u64)
    }
    pub fn plus(self, us: u64) -> SimTime {
        SimTime(self.0.saturating_add(us))
    }
}

/// The lab's wall clock, for tools that print dates (`systemctl status`,
/// the journal, `ls -l`): it reads the tutorial's date, Fri 2021-03-12
/// 09:00:00 UTC, when the lab starts (as the httpd's `Date:` does) and
/// advances with simulated time. The lab's hosts are on UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u32,
    /// Microseconds within the second.
    pub usec: u32,
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
/// (Howard Hinnant's `days_from_civil`).
const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds from the Unix epoch to the lab's start.
const LAB_START_UNIX: i64 = days_from_civil(2021, 3, 12) * 86_400 + 9 * 3600;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

impl WallClock {
    pub fn at(t: SimTime) -> WallClock {
        let secs = LAB_START_UNIX + (t.0 / 1_000_000) as i64;
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // civil_from_days
        let z = days + 719_468;
        let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        WallClock {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            min: (rem / 60 % 60) as u32,
            sec: (rem % 60) as u32,
            // 1970-01-01 was a Thursday.
            weekday: (days + 3).rem_euclid(7) as u32,
            usec: (t.0 % 1_000_000) as u32,
        }
    }

    pub fn month_name(&self) -> &'static str {
        MONTHS[(self.month as usize + 11) % 12]
    }

    pub fn weekday_name(&self) -> &'static str {
        WEEKDAYS[self.weekday as usize % 7]
    }

    /// `%H:%M:%S`
    pub fn hms(&self) -> String {
        format!("{:02}:{:02}:{:02}", self.hour, self.min, self.sec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_clock_starts_on_the_tutorials_date() {
        let w = WallClock::at(SimTime(0));
        assert_eq!((w.year, w.month, w.day, w.hour), (2021, 3, 12, 9));
        assert_eq!((w.weekday_name(), w.month_name()), ("Fri", "Mar"));
        // 20 days and 15 hours later: Fri 2021-04-02 00:00:00.
        let w = WallClock::at(SimTime((20 * 86_400 + 15 * 3600) * 1_000_000 + 7));
        assert_eq!((w.year, w.month, w.day, w.hour, w.usec), (2021, 4, 2, 0, 7));
        assert_eq!(w.weekday_name(), "Fri");
    }
}
