//! `lvslab`: the LVS Lab command line.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;

mod assets;
#[cfg(target_os = "linux")]
mod netlink;
mod serve;
mod sim;

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
    },
    /// Run a lab script in the simulator and print the transcript.
    Sim {
        /// Scenario to start from (`bare`, …).
        #[arg(long, default_value = "bare")]
        scenario: String,
        /// Lab script: lines `HOST# COMMAND` and `# comments`; `-` reads stdin.
        #[arg(long, value_name = "FILE")]
        script: String,
        /// Print the packet trace as JSON instead of the transcript.
        #[arg(long)]
        json: bool,
    },
    /// Run ipvsadm (1.31 grammar and output) against this machine's kernel
    /// IPVS over netlink (Linux; needs root).
    #[command(disable_help_flag = true)]
    Ipvsadm {
        /// ipvsadm's arguments, e.g. `-A -t 192.168.150.100:80 -s rr`, `-ln`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

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
        Command::Serve { listen } => serve::run(listen),
        Command::Sim {
            scenario,
            script,
            json,
        } => sim::run(&scenario, &script, json),
        Command::Ipvsadm { args } => ipvsadm(&args),
    }
}

/// `lvslab ipvsadm`: exits with ipvsadm's status.
#[cfg(target_os = "linux")]
fn ipvsadm(args: &[String]) -> Result<()> {
    std::process::exit(netlink::ipvsadm_main(args))
}

#[cfg(not(target_os = "linux"))]
fn ipvsadm(_args: &[String]) -> Result<()> {
    anyhow::bail!("`lvslab ipvsadm` drives the Linux kernel's IPVS: it only runs on Linux")
}
