module github.com/switchboardhq/switchboard/bench

go 1.26.8

require github.com/switchboardhq/switchboard v0.0.0

replace github.com/switchboardhq/switchboard => ../
