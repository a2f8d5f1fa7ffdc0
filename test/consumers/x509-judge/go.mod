module trustplane.test/x509-judge

go 1.19
