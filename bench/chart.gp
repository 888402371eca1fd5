# SPDX-License-Identifier: Apache-2.0
# The benchmark chart (bench/analyze.py writes the .dat files and calls this):
#   gnuplot -e "dir='build-bench/results'; out='build-bench/bench.png'" bench/chart.gp
set terminal pngcairo size 1600,1500 font "DejaVu Sans,11"
set output out
set multiplot title "Baton vs raw UDP floor vs Redlock on 127.0.0.1, one run of scripts/bench.sh (see docs/benchmarks.md)" font ",14"

set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set lmargin 12
set rmargin 3

# Panel 1: latency
set size 1,0.44
set origin 0,0.53
set title "Latency in microseconds, log scale (lower is better)"
set logscale y
set yrange [10:30000]
set ylabel "microseconds"
set xtics norotate font ",8" nomirror
set bmargin 5
set key top left horizontal
plot dir.'/latency.dat' using 2:xtic(1) title "p50" lc rgb "#2b6cb0", \
     '' using 3 title "p99" lc rgb "#a0c4e8"

# Panel 2: hand-off
set size 0.5,0.5
set origin 0,0
set title "Contended hand-off p50: release -> next waiting holder's grant\n(us, log scale; 3 members / 3 redis; hold 1 ms, think 1 ms)"
set xtics font ",10"
set xlabel "contenders on one resource"
set yrange [10:100000]
set bmargin 4
set key top left vertical font ",9"
plot dir.'/handoff.dat' using 2:xtic(1) title "Baton" lc rgb "#2b6cb0", \
     '' using 3 title "Redlock, retry delay 0-200 ms" lc rgb "#c05621", \
     '' using 4 title "Redlock, retry at once" lc rgb "#f6ad55"
unset xlabel

# Panel 3: throughput
set size 0.5,0.5
set origin 0.5,0
set title "Throughput: acquire+release per second (higher is better)"
unset logscale y
set yrange [0:*]
set ylabel "per second"
set format y "%.0s%c"
set xtics font ",9"
set lmargin 10
set key off
set bmargin 5
set arrow 1 from graph 0, first 100000 to graph 1, first 100000 nohead dt 2 lc rgb "#c53030"
set label 1 "goal: 100,000/s (3 members)" at graph 0.02, first 108000 tc rgb "#c53030" font ",9"
plot dir.'/throughput.dat' using 2:xtic(1) lc rgb "#2b6cb0"
unset multiplot
