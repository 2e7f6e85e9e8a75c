//! `lvslab`: the LVS Lab command line.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;

use lvslab::{director, serve, sim};

#[derive(Parser, Debug)]
#[command(
    name = "lvslab",
    version,
    about = "LVS Lab: learn and drive Linux IPVS in Direct Routing mode"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the lab (the simulator runs in your browser) over HTTP.
    Serve {
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
        listen: SocketAddr,
        /// Live mode: also show this host's kernel IPVS (services, real
        /// servers, counters, connections, doctor) at /api/live/ and in the
        /// page's Live view. Read-only unless --allow-apply.
        #[arg(long)]
        live: bool,
        /// Let the page apply an IPVS configuration to this kernel
        /// (POST /api/live/apply); writes need the token printed at start-up.
        #[arg(long, requires = "live")]
        allow_apply: bool,
        /// Read the write token from FILE (mode 0600, at least 32
        /// characters, 128 bits) instead of generating one. A generated
        /// token is printed only on a terminal; otherwise it is written to
        /// /run/lvslab/token (mode 0600).
        #[arg(long, value_name = "FILE", requires = "allow_apply")]
        token_file: Option<std::path::PathBuf>,
        /// Also require a token (this file's, or the write token) for
        /// reading the host's data: for directors with other local users.
        #[arg(long, value_name = "FILE", requires = "live")]
        read_token_file: Option<std::path::PathBuf>,
        /// For tests and demos only: live mode over a simulated director
        /// (scenario SCENARIO, traffic from its client) instead of the kernel.
        #[arg(long, value_name = "SCENARIO", hide = true, requires = "live")]
        live_sim: Option<String>,
        /// For load tests only: add N services (copies of the scenario's
        /// first) to the simulated director.
        #[arg(
            long,
            value_name = "N",
            hide = true,
            requires = "live_sim",
            default_value_t = 0
        )]
        live_sim_services: u32,
    },
    /// Run a lab script in the simulator and print the transcript.
    Sim {
        /// Scenario to start from (`bare`, `seed`, `pitfall-lo-mask-24`, …).
        #[arg(long, default_value = "bare", conflicts_with_all = ["from_host", "snapshot"])]
        scenario: String,
        /// Start from this host's real configuration (addresses, routes,
        /// sysctls, IPVS), with a simulated client and real servers around it.
        #[arg(long)]
        from_host: bool,
        /// Start from a saved `lvslab snapshot` (FILE, or sim:SCENARIO:HOST).
        #[arg(long, value_name = "FILE", conflicts_with = "from_host")]
        snapshot: Option<String>,
        /// Lab script: lines `HOST# COMMAND` and `# comments`; `-` reads stdin.
        #[arg(long, value_name = "FILE")]
        script: String,
        /// Print the packet trace as JSON instead of the transcript.
        #[arg(long)]
        json: bool,
        /// Print only the run's digest (FNV-1a of the transcript and the
        /// trace as JSON, then the events and bytes): the browser's wasm
        /// build must print the same (`lvslab_digest`).
        #[arg(long, conflicts_with_all = ["json", "from_host", "snapshot"])]
        digest: bool,
    },
    /// Run ipvsadm (1.31 grammar and output) against this machine's kernel
    /// IPVS over netlink (Linux; needs root).
    #[command(disable_help_flag = true)]
    Ipvsadm {
        /// ipvsadm's arguments, e.g. `-A -t 192.168.150.100:80 -s rr`, `-ln`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Check this host for the LVS-DR pitfalls and print the fix for each.
    #[command(after_help = DOCTOR_AFTER)]
    Doctor {
        /// What this host is; inferred when omitted (IPVS services: director;
        /// a non-127 address on lo: real server).
        #[arg(long, value_name = "director|realserver")]
        role: Option<String>,
        /// The virtual IP this host should serve (checked for presence,
        /// typos and its mask on lo).
        #[arg(long, value_name = "ADDR")]
        vip: Option<std::net::Ipv4Addr>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Examine a saved snapshot (FILE, `-`, or sim:SCENARIO:HOST) instead
        /// of this host.
        #[arg(long, value_name = "FILE")]
        snapshot: Option<String>,
    },
    /// Make the kernel's IPVS table match a TOML file (diff, then apply;
    /// all or nothing).
    #[command(after_help = APPLY_AFTER)]
    Apply {
        /// The desired services and real servers (TOML).
        file: String,
        /// Print the changes without making them.
        #[arg(long, short = 'n')]
        dry_run: bool,
        /// Also delete services the file does not declare.
        #[arg(long)]
        prune: bool,
    },
    /// Print this host's network and IPVS state as JSON (for `doctor
    /// --snapshot` and `sim --snapshot` elsewhere).
    Snapshot {
        /// Snapshot a simulated host instead: sim:SCENARIO:HOST.
        #[arg(long, value_name = "SOURCE")]
        of: Option<String>,
    },
}

const DOCTOR_AFTER: &str = "\
Checks (each with the kernel's reason and the command that fixes it):
  director    VIP not local; services without real servers; weight 0;
              DR real server not on a directly connected subnet; NAT without
              ip_forward
  realserver  VIP missing or mistyped (192.178 for 192.168); VIP mask on lo
              not /32; VIP on a wire device; lo down; arp_ignore and
              arp_announce effective values (max of all and the device);
              strict rp_filter on a device replies do not leave by

Exit status: 0 no problem found, 1 problems found, 2 the host could not be read.

Examples:
  lvslab doctor                                  # on node01 or a real server
  lvslab doctor --role realserver --vip 192.168.150.100
  lvslab doctor --json | jq '.report.findings[].check'
  lvslab doctor --snapshot sim:pitfall-lo-mask-24:node02";

const APPLY_AFTER: &str = "\
File format (every key is the ipvsadm option of the same meaning):
  [[service]]
  tcp = \"192.168.150.100:80\"     # or udp = / sctp = / fwmark = 1
  scheduler = \"rr\"               # -s (default wlc)
  persistent = 300                # -p, optional; netmask = \"255.255.255.0\" (-M)
    [[service.server]]
    address = \"192.168.150.12\"   # -r; the port defaults to the service's
    method = \"dr\"                # dr (-g, default), tun (-i), nat (-m)
    weight = 1                    # -w (default 1); upper/lower: -x/-y

The plan is printed as ipvsadm lines (+ add, ~ change, - delete). A second
run changes nothing. If the kernel refuses a change (a scheduler module
missing, a service created meanwhile), every change this run made is undone
and the table is left as it was. Services the file does not declare are left
alone unless --prune.

Exit status: 0 applied (or nothing to do), 1 refused and rolled back,
2 the file or the kernel could not be read.";

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lvslab: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve {
            listen,
            live,
            allow_apply,
            token_file,
            read_token_file,
            live_sim,
            live_sim_services,
        } => serve::run(serve::Options {
            listen,
            live,
            allow_apply,
            token_file,
            read_token_file,
            live_sim,
            live_sim_services,
        }),
        Command::Sim {
            scenario,
            from_host,
            snapshot,
            script,
            json,
            digest,
        } => {
            if digest {
                let text = sim::read_script(&script)?;
                println!("{}", lvslab_engine::digest::run(&scenario, &text)?);
                return Ok(());
            }
            let start = if from_host {
                sim::Start::Snapshot(director::Source::Host)
            } else if let Some(s) = snapshot {
                sim::Start::Snapshot(director::Source::parse(Some(s))?)
            } else {
                sim::Start::Scenario(scenario)
            };
            sim::run(start, &script, json)
        }
        Command::Ipvsadm { args } => ipvsadm(&args),
        Command::Doctor {
            role,
            vip,
            json,
            snapshot,
        } => exit(director::doctor(
            &director::Source::parse(snapshot)?,
            role.as_deref(),
            vip,
            json,
        )),
        Command::Apply {
            file,
            dry_run,
            prune,
        } => exit(director::apply(&file, dry_run, prune)),
        Command::Snapshot { of } => exit(director::snapshot(&director::Source::parse(of)?)),
    }
}

/// Exit with a tool's status; errors (file or host unreadable) exit 2.
fn exit(r: Result<i32>) -> Result<()> {
    match r {
        Ok(0) => Ok(()),
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("lvslab: {e:#}");
            std::process::exit(2)
        }
    }
}

/// `lvslab ipvsadm`: exits with ipvsadm's status.
#[cfg(target_os = "linux")]
fn ipvsadm(args: &[String]) -> Result<()> {
    std::process::exit(lvslab::netlink::ipvsadm_main(args))
}

#[cfg(not(target_os = "linux"))]
fn ipvsadm(_args: &[String]) -> Result<()> {
    anyhow::bail!("`lvslab ipvsadm` drives the Linux kernel's IPVS: it only runs on Linux")
}
