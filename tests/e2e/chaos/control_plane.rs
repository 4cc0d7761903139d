//! The Kubernetes side fails: the API server pauses, the leader dies.

use std::time::{Duration, Instant};

use super::*;

struct Paused(u32);

impl Paused {
    fn stop(pid: u32) -> Self {
        signal("STOP", pid);
        Self(pid)
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        signal("CONT", self.0);
    }
}

fn signal(name: &str, pid: u32) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {pid}");
}

#[tokio::test]
async fn chaos_api_server_paused_mid_create() {
    let profile = Profile::current();
    let count = profile.pick(3, 10);
    let pause = Duration::from_secs(profile.pick(10, 60));
    let mut env = Env::start("chaos-pause").await;
    let mut record = Record::new(
        "kube-apiserver paused mid-create",
        "every object gets exactly one endpoint once the API server is back",
        format!(
            "{count} objects applied, then kube-apiserver SIGSTOPped for {} s and resumed",
            pause.as_secs()
        ),
    );
    let counters = Counters::now(&env);
    apply_all(&env, &names("pause", count));
    {
        let _paused = Paused::stop(cluster().cp.apiserver_pid());
        // The fault itself lasts this long; nothing is waited for.
        tokio::time::sleep(pause).await;
    }
    let created = settled(&mut env, all_created, count).await;
    let duplicates = duplicated(&env);
    record.figure(
        "time from resume until all have an endpoint",
        seconds(created),
    );
    record.figure("duplicates", duplicates);
    counters.report(&env, &mut record);
    record.check("all objects got an endpoint", created.is_ok());
    record.check("no object has two endpoints", duplicates == 0);
    record.check(
        "exactly one endpoint per object",
        live_endpoints(&env) == count,
    );
    cleaned_up(&mut env, &mut record).await;
    record.finish();
}

fn lease_holder(env: &Env, lease: &str) -> String {
    let out = env.kubectl_raw(
        &[
            "get",
            "lease",
            lease,
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ],
        None,
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test]
async fn chaos_two_replicas_and_the_leader_sigkilled() {
    let mut env = Env::start_without_operator("chaos-leader").await;
    let lease = format!("chaos-{}", env.namespace);
    let replica = |name: &str| -> Child {
        env.spawn_operator(&[
            "--leader-election",
            "--leader-election-namespace",
            &env.namespace,
            "--lease-name",
            &lease,
            "--lease-duration",
            "5s",
            "--instance",
            name,
        ])
    };
    let mut replicas: BTreeMap<String, Child> = ["replica-a", "replica-b"]
        .map(|n| (n.to_string(), replica(n)))
        .into();
    let mut record = Record::new(
        "Two replicas, the leader SIGKILLed",
        "the standby takes over within the lease duration (5 s) plus a renewal, and reconciles",
        "two operator replicas with leader election; one object created; the leader SIGKILLed; a second object created".into(),
    );
    applied(&env, &manifest("first", |_| {}));
    let first = settled(&mut env, all_created, 1).await;
    record.check("the first object got an endpoint", first.is_ok());
    let leader = lease_holder(&env, &lease);
    record.check("a replica holds the lease", replicas.contains_key(&leader));
    if let Some(mut child) = replicas.remove(&leader) {
        let _ = child.kill();
        let _ = child.wait();
    }
    let killed = Instant::now();
    let takeover = converge(&mut env, &mut Calm, async |env: &Env| {
        let holder = lease_holder(env, &lease);
        !holder.is_empty() && holder != leader
    })
    .await;
    applied(&env, &manifest("second", |_| {}));
    let second = settled(&mut env, all_created, 2).await;
    record.figure("lease takeover after the kill", seconds(takeover));
    record.figure(
        "kill → the second object has its endpoint",
        format!("{:.1} s", killed.elapsed().as_secs_f64()),
    );
    record.check("the standby took the lease", takeover.is_ok());
    record.check("the new leader reconciles", second.is_ok());
    record.check("no duplicate", duplicated(&env) == 0);
    cleaned_up(&mut env, &mut record).await;
    for (_, mut child) in replicas {
        let _ = child.kill();
        let _ = child.wait();
    }
    record.finish();
}
