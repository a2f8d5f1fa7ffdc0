module trustplane.test/etcd-client

go 1.19
