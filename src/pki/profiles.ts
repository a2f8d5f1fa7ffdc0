// Leaf profiles: the subject, usages and lifetime of each certificate Talos and kubeadm issue.
export type LeafProfile =
  | 'talos-client'
  | 'node-server'
  | 'trustd-server'
  | 'etcd-server'
  | 'etcd-peer'
  | 'etcd-client'
  | 'kube-apiserver'
  | 'apiserver-kubelet-client'
  | 'apiserver-etcd-client'
  | 'kubelet'
  | 'kubelet-server'
  | 'controller-manager'
  | 'scheduler'
  | 'front-proxy-client'
  | 'kube-admin'
  | 'impersonator';

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

export type ExtKeyUsageName = 'serverAuth' | 'clientAuth' | 'codeSigning' | 'emailProtection' | 'timeStamping' | 'ocspSigning';
