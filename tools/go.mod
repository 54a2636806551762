module github.com/hybridstore/hybrid-storage/tools

go 1.26
