//! Objects created, deleted and orphaned in bulk while the operator or the namespace goes away.

use std::time::Duration;

use super::*;

#[tokio::test]
async fn chaos_operator_sigkilled_at_random_while_objects_are_created_and_deleted() {
    let profile = Profile::current();
    let count = profile.pick(6, 30);
    let mut env = Env::start("chaos-kill").await;
    let (low, high) = (
        Duration::from_millis(500),
        Duration::from_secs(profile.pick(2, 5)),
    );
    let mut killer = Killer::new(low, high);
    let mut record = Record::new(
        "Operator SIGKILLed at random",
        "exactly N endpoints, then 0; no duplicate, no orphan; every finalizer gone",
        format!(
            "{count} objects with a network, a rule and a route created (Ready), then all deleted, \
             while the operator is SIGKILLed and restarted every {:.1}–{:.1} s",
            low.as_secs_f64(),
            high.as_secs_f64()
        ),
    );
    create_and_delete_under(&mut env, &mut killer, &mut record, "kill", count).await;
    record.figure("operator kills", killer.kills);
    record.finish();
}

#[tokio::test]
async fn chaos_objects_created_and_deleted_at_once() {
    let count = Profile::current().pick(5, 20);
    let mut env = Env::start("chaos-at-once").await;
    let mut record = Record::new(
        "Create, then delete at once",
        "nothing left in AWS, no finalizer left, at most one create per object",
        format!("{count} objects applied and each deleted right after its apply"),
    );
    let counters = Counters::now(&env);
    for name in names("once", count) {
        applied(&env, &manifest(&name, |_| {}));
        env.kubectl(&["delete", "cvpn", &name, "--wait=false"]);
    }
    let gone = converge(&mut env, &mut Calm, async |env: &Env| all_gone(env).await).await;
    let creates = calls_since(&env, "CreateClientVpnEndpoint", counters.creates);
    record.figure("time until everything is gone", seconds(gone));
    record.figure("orphaned AWS endpoints", live_endpoints(&env));
    counters.report(&env, &mut record);
    record.check("every object and endpoint gone", gone.is_ok());
    record.check("at most one create per object", creates <= count as u64);
    record.finish();
}

#[tokio::test]
async fn chaos_namespace_deleted_with_objects_in_it() {
    let count = Profile::current().pick(4, 10);
    let mut env = Env::start("chaos-namespace").await;
    let mut record = Record::new(
        "Namespace deleted with objects in it",
        "the namespace goes away; no endpoint of it is left in AWS",
        format!("{count} objects created, then their namespace deleted"),
    );
    let counters = Counters::now(&env);
    apply_all(&env, &names("ns", count));
    let created = settled(&mut env, all_created, count).await;
    record.check("all objects got an endpoint", created.is_ok());
    let namespace = env.namespace.clone();
    env.kubectl(&["delete", "namespace", &namespace, "--wait=false"]);
    let gone = converge(&mut env, &mut Calm, async |env: &Env| {
        let left = env.kubectl_raw(&["get", "namespace", &env.namespace], None);
        !left.status.success() && live_endpoints(env) == 0
    })
    .await;
    record.figure(
        "time until the namespace and its endpoints are gone",
        seconds(gone),
    );
    record.figure("orphaned AWS endpoints", live_endpoints(&env));
    counters.report(&env, &mut record);
    record.check("namespace gone and no endpoint left", gone.is_ok());
    record.finish();
}
