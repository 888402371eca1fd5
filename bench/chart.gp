# The benchmark chart (bench/analyze.py writes the .dat files and calls this):
#   gnuplot -e "dir='build-bench/results'; out='build-bench/bench.png'" bench/chart.gp
set terminal pngcairo size 1500,1250 font "DejaVu Sans,11"
set output out
set multiplot layout 3,1 title "Baton vs UDP floor vs Redlock, loopback, one run of scripts/bench.sh" font ",14"

set title "Latency (us, log scale): p50 bars, p99 bars (lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [10:*]
set ylabel "microseconds"
set xtics rotate by -25 font ",9" nomirror
set grid ytics
set key top left
plot dir.'/latency.dat' using 2:xtic(1) title "p50" lc rgb "#2b6cb0", \
     '' using 3 title "p99" lc rgb "#a0c4e8"

set title "Contended hand-off p50 (us, log scale): holder's release -> next waiting holder's grant"
set xtics norotate font ",10"
set xlabel "contenders on one resource"
plot dir.'/handoff.dat' using 2:xtic(1) title "Baton (3 members)" lc rgb "#2b6cb0", \
     '' using 3 title "Redlock (3 redis), random retry delay 0-200 ms" lc rgb "#c05621", \
     '' using 4 title "Redlock (3 redis), retry at once" lc rgb "#f6ad55"
unset xlabel

set title "Throughput: acquire+release per second (higher is better)"
unset logscale y
set yrange [0:*]
set ylabel "per second"
set format y "%.0s%c"
set xtics font ",10"
set key off
plot dir.'/throughput.dat' using 2:xtic(1) lc rgb "#2b6cb0"
unset multiplot
