//! Who a server is: Corium (the subject), a peer runtime, the limit or a
//! reference program, and which servers a Corium figure is compared with.
//!
//! Server names follow the suite's columns: an optional application
//! prefix (`http-`, `resp-`), a name (`corium`, `tokio`, `smol`, `epoll`,
//! `polling`, `redis`, `nginx`, or a sync family such as `tokio::sync` or
//! `async-channel`), an optional flavor suffix (`-ct`, `-mt`; no suffix is
//! one thread) and an optional placement after `@` (`@unpinned`, or the
//! executor a sync row ran on, e.g. `@corium-ct`). A Corium figure is
//! compared with every non-Corium server of the same prefix, flavor and
//! placement, and a multi-thread one also with Corium's own one-thread
//! figure of the same placement.

/// What a comparison is against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeerKind {
    /// tokio (any flavor), or `tokio::sync`.
    Tokio,
    /// smol / async-executor, or smol-rs's `async-channel` / `async-lock`.
    Smol,
    /// The raw epoll loop: the limit, not a peer.
    Epoll,
    /// The raw loop on `polling::Poller::wait`: the limit plus `polling`'s
    /// cost.
    Polling,
    /// redis-server: the reference a reader knows.
    Redis,
    /// nginx: the reference a reader knows.
    Nginx,
    /// Corium's own current-thread figure (for a multi-thread one).
    OwnCt,
    /// Anything else.
    Other,
}

impl PeerKind {
    /// Every kind, in column order.
    pub const ALL: [PeerKind; 8] = [
        PeerKind::Epoll,
        PeerKind::Polling,
        PeerKind::Tokio,
        PeerKind::Smol,
        PeerKind::Redis,
        PeerKind::Nginx,
        PeerKind::OwnCt,
        PeerKind::Other,
    ];

    /// The kind of `server`.
    pub fn of(server: &str) -> PeerKind {
        let name = Server::parse(server).name;
        if name.contains("corium") {
            PeerKind::OwnCt
        } else if name.contains("tokio") {
            PeerKind::Tokio
        } else if name.contains("smol") || name.starts_with("async-") {
            PeerKind::Smol
        } else if name.contains("epoll") {
            PeerKind::Epoll
        } else if name.contains("polling") {
            PeerKind::Polling
        } else if name.contains("redis") {
            PeerKind::Redis
        } else if name.contains("nginx") {
            PeerKind::Nginx
        } else {
            PeerKind::Other
        }
    }

    /// Column header: `vs tokio`, `vs raw epoll (limit)`, ...
    pub fn header(self) -> &'static str {
        match self {
            PeerKind::Tokio => "vs tokio",
            PeerKind::Smol => "vs smol-rs",
            PeerKind::Epoll => "vs raw epoll (limit)",
            PeerKind::Polling => "vs loop on polling (limit + polling)",
            PeerKind::Redis => "vs redis-server (reference)",
            PeerKind::Nginx => "vs nginx (reference)",
            PeerKind::OwnCt => "vs Corium current-thread",
            PeerKind::Other => "vs other",
        }
    }

    /// Whether this is a limit (a program with no runtime), not a peer.
    pub fn is_limit(self) -> bool {
        matches!(self, PeerKind::Epoll | PeerKind::Polling)
    }
}

/// A server name taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Server<'a> {
    /// `http-`, `resp-` or empty.
    pub prefix: &'a str,
    /// The name, without prefix and placement, flavor suffix included.
    pub name: &'a str,
    /// After `@`, or empty.
    pub placement: &'a str,
}

impl<'a> Server<'a> {
    /// Takes `server` apart.
    pub fn parse(server: &'a str) -> Server<'a> {
        let (rest, placement) = server.split_once('@').unwrap_or((server, ""));
        let prefix = ["http-", "resp-"]
            .into_iter()
            .find(|p| rest.starts_with(p))
            .unwrap_or("");
        Server {
            prefix,
            name: &rest[prefix.len()..],
            placement,
        }
    }

    /// Multi-thread (`-mt`) or not.
    pub fn is_multi_thread(&self) -> bool {
        self.name.ends_with("-mt")
    }

    /// The name without its flavor suffix: `tokio` for `tokio-mt`.
    pub fn core_name(&self) -> &'a str {
        self.name
            .strip_suffix("-mt")
            .or_else(|| self.name.strip_suffix("-ct"))
            .unwrap_or(self.name)
    }
}

/// Whether `server` is Corium.
pub fn is_subject(server: &str) -> bool {
    Server::parse(server).name.contains("corium")
}

/// The servers among `candidates` that the Corium server `subject` is
/// compared with, with their kind, in `candidates` order.
pub fn peers_of<'c>(subject: &str, candidates: &[&'c str]) -> Vec<(&'c str, PeerKind)> {
    let s = Server::parse(subject);
    candidates
        .iter()
        .filter(|&&c| c != subject)
        .filter_map(|&candidate| {
            let c = Server::parse(candidate);
            if c.prefix != s.prefix || c.placement != s.placement {
                return None;
            }
            let own = is_subject(candidate);
            let pairs = if own {
                s.is_multi_thread() && !c.is_multi_thread()
            } else {
                c.is_multi_thread() == s.is_multi_thread()
            };
            pairs.then(|| (candidate, PeerKind::of(candidate)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_follow_prefix_flavor_and_placement() {
        let net = [
            "corium",
            "epoll",
            "tokio",
            "smol",
            "corium-mt@unpinned",
            "tokio-mt@unpinned",
            "corium@unpinned",
        ];
        fn names(v: Vec<(&str, PeerKind)>) -> Vec<&str> {
            v.into_iter().map(|(n, _)| n).collect()
        }
        assert_eq!(names(peers_of("corium", &net)), ["epoll", "tokio", "smol"]);
        assert_eq!(
            peers_of("corium-mt@unpinned", &net),
            [
                ("tokio-mt@unpinned", PeerKind::Tokio),
                ("corium@unpinned", PeerKind::OwnCt)
            ]
        );
        let micro = [
            "corium-ct",
            "tokio-ct",
            "smol",
            "corium-mt",
            "tokio-mt",
            "smol-mt",
        ];
        assert_eq!(
            names(peers_of("corium-mt", &micro)),
            ["corium-ct", "tokio-mt", "smol-mt"]
        );
        let app = ["http-corium", "http-epoll", "resp-tokio", "http-nginx"];
        assert_eq!(
            peers_of("http-corium", &app),
            [
                ("http-epoll", PeerKind::Epoll),
                ("http-nginx", PeerKind::Nginx)
            ]
        );
        let sync = [
            "corium::sync@tokio-ct",
            "tokio::sync@tokio-ct",
            "async-lock@tokio-ct",
            "tokio::sync@corium-ct",
        ];
        assert_eq!(
            peers_of("corium::sync@tokio-ct", &sync),
            [
                ("tokio::sync@tokio-ct", PeerKind::Tokio),
                ("async-lock@tokio-ct", PeerKind::Smol)
            ]
        );
    }
}
