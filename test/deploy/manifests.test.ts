/**
 * deploy/ against the Kubernetes API's own schemas (Kubernetes v1.32.2 JSON schemas, strict:
 * test/deploy/schemas/README.md), validated with ajv: every object `kubectl apply -k deploy/`
 * would send. Mutated copies (a misspelled field, a wrong type) must fail, so the check can fail.
 * Then what the schemas cannot say: the DaemonSet's security and placement settings, the probes
 * matching the ConfigMap's metrics port, the ConfigMap's podroute.yaml passing podroute's own
 * config check, and the RBAC rules.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1DaemonSet,
  V1PolicyRule,
} from '@kubernetes/client-node';
import { Ajv, type ValidateFunction } from 'ajv';
import t from 'tap';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseConfig } from '../../src/config/index.js';

const repo = new URL('../..', import.meta.url).pathname;
const deploy = join(repo, 'deploy');
const schemas = join(repo, 'test/deploy/schemas');

type Obj = Record<string, unknown> & {
  kind: string;
  apiVersion: string;
  metadata: { name: string; namespace?: string };
};

const ajv = new Ajv({
  allErrors: true,
  strict: false,
  // OpenAPI formats: checked by type only (the schemas' types carry what matters here).
  formats: { int32: true, int64: true, byte: true, 'date-time': true },
});
const files: Record<string, string> = {
  'v1/Namespace': 'namespace-v1.json',
  'v1/ServiceAccount': 'serviceaccount-v1.json',
  'v1/ConfigMap': 'configmap-v1.json',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'clusterrole-rbac-v1.json',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'clusterrolebinding-rbac-v1.json',
  'apps/v1/DaemonSet': 'daemonset-apps-v1.json',
};
const validators = new Map<string, ValidateFunction>();
function validatorFor(o: Obj): ValidateFunction {
  const key = `${o.apiVersion}/${o.kind}`;
  const file = files[key];
  if (!file) throw new Error(`no schema vendored for ${key}`);
  let v = validators.get(key);
  if (!v) {
    v = ajv.compile(JSON.parse(readFileSync(join(schemas, file), 'utf8')));
    validators.set(key, v);
  }
  return v;
}

function errorsOf(o: Obj): string[] {
  const v = validatorFor(o);
  return v(o)
    ? []
    : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

const kustomization = parseYaml(readFileSync(join(deploy, 'kustomization.yaml'), 'utf8')) as {
  namespace: string;
  resources: string[];
  images: { name: string }[];
};
const objects: Obj[] = kustomization.resources.flatMap((f) =>
  parseAllDocuments(readFileSync(join(deploy, f), 'utf8')).map((d) => d.toJS() as Obj),
);
const find = (kind: string) => objects.find((o) => o.kind === kind) as Obj;

t.test('every object kustomize sends is valid against the Kubernetes schemas', async (t) => {
  t.same(objects.map((o) => o.kind).sort(), [
    'ClusterRole',
    'ClusterRoleBinding',
    'ConfigMap',
    'DaemonSet',
    'Namespace',
    'ServiceAccount',
  ]);
  for (const o of objects) t.same(errorsOf(o), [], `${o.kind}/${o.metadata.name}`);
  for (const o of objects) {
    if (o.kind.startsWith('Cluster') || o.kind === 'Namespace') continue;
    t.equal(
      o.metadata.namespace,
      kustomization.namespace,
      `${o.kind} in namespace ${kustomization.namespace}`,
    );
  }
});

t.test('a misspelled field or a wrong type fails', async (t) => {
  const ds = find('DaemonSet');
  /** A copy of the DaemonSet with the value at `path` (dot-separated, numbers index arrays) set. */
  const mutate = (path: string, value: unknown): Obj => {
    const c = structuredClone(ds);
    const keys = path.split('.');
    let at = c as Record<string, unknown>;
    for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
    at[keys.at(-1) as string] = value;
    return c;
  };
  const cases: [string, Obj, RegExp][] = [
    [
      'misspelled pod field',
      mutate('spec.template.spec.hostNetwrk', true),
      /must NOT have additional properties.*hostNetwrk/,
    ],
    ['wrong type', mutate('spec.template.spec.hostNetwork', 'yes'), /hostNetwork must be boolean/],
    [
      'misspelled container field',
      mutate('spec.template.spec.containers.0.imagePullPolizy', 'Always'),
      /imagePullPolizy/,
    ],
    [
      'wrong type deep down',
      mutate('spec.template.spec.containers.0.readinessProbe.periodSeconds', '5s'),
      /periodSeconds must be integer/,
    ],
    ['misspelled top-level', mutate('specs', ds.spec), /specs/],
  ];
  for (const [what, obj, rx] of cases) t.match(errorsOf(obj).join('\n'), rx, what);
  const cm = structuredClone(find('ConfigMap')) as Obj & { data: Record<string, unknown> };
  cm.data['podroute.yaml'] = 42;
  t.match(errorsOf(cm).join('\n'), /must be string/, 'ConfigMap data must be strings');
});

t.test('DaemonSet: placement, privileges, host paths, probes, rollout', async (t) => {
  const ds = find('DaemonSet') as unknown as V1DaemonSet;
  const pod = ds.spec?.template.spec;
  if (!pod) throw new Error('DaemonSet without a pod spec');
  t.equal(pod.hostNetwork, true);
  t.equal(pod.priorityClassName, 'system-node-critical');
  t.same(pod.tolerations, [{ operator: 'Exists' }], 'tolerates every taint');
  t.same(ds.spec?.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
  t.ok((pod.terminationGracePeriodSeconds ?? 30) > 5, "longer than the daemon's 5 s stop");
  const c = pod.containers[0];
  if (!c) throw new Error('no container');
  t.same([...(c.securityContext?.capabilities?.add ?? [])].sort(), [
    'NET_ADMIN',
    'NET_BIND_SERVICE',
    'NET_RAW',
  ]);
  t.same(c.securityContext?.capabilities?.drop, ['ALL']);
  t.not(c.securityContext?.privileged, true, 'not privileged');
  for (const ic of pod.initContainers ?? [])
    t.not(ic.securityContext?.privileged, true, `${ic.name} not privileged`);
  t.same(c.env?.find((e) => e.name === 'NODE_NAME')?.valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } });
  const hostPaths = (pod.volumes ?? []).flatMap((v) => (v.hostPath ? [v.hostPath.path] : [])).sort();
  t.same(hostPaths, ['/etc/cni/net.d', '/opt/cni/bin', '/run/podroute', '/var/lib/podroute']);

  const cm = find('ConfigMap') as unknown as V1ConfigMap;
  const config = parseConfig(cm.data?.['podroute.yaml'] ?? '', 'ConfigMap');
  t.equal(config.node.source, 'kubernetes');
  const [host, port] = (config.api.metrics ?? '').split(':');
  for (const [probe, path] of [
    ['readinessProbe', '/readyz'],
    ['livenessProbe', '/healthz'],
  ] as const) {
    t.same(c[probe]?.httpGet, { host, port: Number(port), path }, `${probe} on the metrics port`);
  }
  const mounts = new Map((c.volumeMounts ?? []).map((m) => [m.name, m.mountPath]));
  t.equal(
    mounts.get('run'),
    config.api.socket.replace(/\/[^/]+$/, ''),
    'the API socket directory is the host path',
  );
  t.equal(mounts.get('state'), config.ipam?.stateDir, 'the IPAM state directory is the host path');
  const ic = pod.initContainers?.find((i) => i.name === 'install-cni');
  t.same(ic?.command, ['/bin/sh', '/opt/podroute/deploy/install-cni.sh']);
  t.equal(
    ic?.env?.find((e) => e.name === 'PODROUTE_SOCKET')?.value,
    config.api.socket,
    'the conflist names the daemon socket',
  );
  t.ok(
    kustomization.images.some((i) => i.name === c.image),
    'the image is set in kustomization.yaml',
  );
});

t.test('RBAC: nodes read and watched, pods read, leases, events; bound to the ServiceAccount', async (t) => {
  const role = find('ClusterRole') as unknown as V1ClusterRole;
  const rule = (group: string, resource: string): V1PolicyRule | undefined =>
    role.rules?.find((r) => r.apiGroups?.includes(group) && r.resources?.includes(resource));
  t.same(rule('', 'nodes')?.verbs, ['get', 'list', 'watch']);
  t.same(rule('', 'pods')?.verbs, ['get'], 'pods: get only (the network annotation on CNI ADD)');
  t.same(rule('coordination.k8s.io', 'leases')?.verbs, ['get', 'create', 'update']);
  t.same(rule('', 'events')?.verbs, ['create']);
  const binding = find('ClusterRoleBinding') as unknown as V1ClusterRoleBinding;
  const sa = find('ServiceAccount');
  t.same(binding.subjects, [
    { kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace },
  ]);
  const ds = find('DaemonSet') as unknown as V1DaemonSet;
  t.equal(ds.spec?.template.spec?.serviceAccountName, sa.metadata.name);
});
