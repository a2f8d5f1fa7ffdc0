module trustplane.test/etcd-put

go 1.19
