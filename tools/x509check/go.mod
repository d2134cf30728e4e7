module multicluster-mesh/x509check

go 1.19
