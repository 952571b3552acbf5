#!/usr/bin/perl
# Interop: Perl Net::SMPP (Debian libnet-smpp-perl) as the ESME against
# smsc-sim. Binds, submits with registered_delivery, receives the DR (matched
# by receipted_message_id), receives an MO, enquire_link, unbind; then checks
# the simulator's ledger. Prints TAP. Usage: test_net_smpp.pl PATH/TO/smsc-sim
use strict;
use warnings;
use File::Temp qw(tempdir);
use JSON::PP;
use Net::SMPP;

my $sim = shift or die "usage: $0 PATH/TO/smsc-sim\n";
my $dir = tempdir(CLEANUP => 1);
my $ctl = "$dir/ctl.sock";
my $ledger = "$dir/ledger.json";
my $n = 0;
my $failed = 0;

sub ok {
        my ($cond, $name) = @_;
        $n++;
        print(($cond ? "ok" : "not ok") . " $n - $name\n");
        $failed++ unless $cond;
        return $cond;
}

my $pid = open(my $out, '-|', $sim, '--port-base', '0', '--sites', 'dc3,bos', '--control', $ctl,
               '--ledger', $ledger, '--set', 'dr_delay_ms=10-30', '--rebind-interval', '0')
        or die "cannot start $sim: $!";
my %port;
while (my $line = <$out>) {
        chomp $line;
        last if $line eq 'ready';
        $port{$1} = $2 if $line =~ /^listening (\S+) \S+ 127\.0\.0\.1:(\d+)$/;
}
ok(scalar(keys %port) == 4, 'simulator lists four SMSCs');

$SIG{ALRM} = sub { die "timeout\n" };
alarm 20;

# wrong password is refused with ESME_RINVPASWD
{
        my ($bad, $resp) = Net::SMPP->new_transceiver('127.0.0.1', port => $port{'smsc1.dc3'},
                system_id => 'smsmux', password => 'wrong', smpp_version => 0x34);
        ok($resp && $resp->{status} == 0x0E, 'bad password gets ESME_RINVPASWD');
        $bad->close if $bad;
}

my ($smpp, $resp) = Net::SMPP->new_transceiver('127.0.0.1', port => $port{'smsc1.dc3'},
        system_id => 'smsmux', password => 'secret', smpp_version => 0x34);
ok($smpp && $resp && $resp->{status} == 0, 'bind_transceiver accepted');
ok($resp && $resp->{system_id} eq 'smsc1.dc3', 'bind_resp names the SMSC');

my $sr = $smpp->submit_sm(source_addr => '12345', destination_addr => '447700900001',
        short_message => 'hello from perl', registered_delivery => 1);
ok($sr && $sr->{status} == 0 && length($sr->{message_id}) > 0, 'submit_sm answered with a message_id');
my $msgid = $sr ? $sr->{message_id} : '';

my $dr = $smpp->read_pdu();
ok($dr && $dr->{cmd} == 5, 'a deliver_sm arrives');
(my $rid = $dr->{receipted_message_id} // '') =~ s/\0+$//;
ok($rid eq $msgid, 'DR receipted_message_id is the submit_sm_resp id');
ok(defined $dr->{message_state} && unpack('C', $dr->{message_state}) == 2, 'DR message_state DELIVERED');
ok(($dr->{esm_class} & 0x3C) == 0x04, 'DR esm_class says SMSC delivery receipt');
ok($dr->{short_message} =~ /stat:DELIVRD .*text:hello from perl$/, 'DR text in Appendix B style');
$smpp->deliver_sm_resp(seq => $dr->{seq}, message_id => '');

{
        open(my $c, '-|', $sim, 'ctl', '--control', $ctl, 'mo', 'smsc1.dc3') or die "ctl: $!";
        my $reply = <$c> // '';
        close $c;
        ok($reply =~ /^ok/, 'ctl mo accepted');
}
my $mo = $smpp->read_pdu();
ok($mo && $mo->{cmd} == 5 && ($mo->{esm_class} & 0x3C) == 0, 'an MO arrives as deliver_sm');
ok($mo && $mo->{short_message} =~ /^MO 1 from smsc1\.dc3/, 'MO text');
ok($mo && $mo->{destination_addr} eq '12345', 'MO destination');
$smpp->deliver_sm_resp(seq => $mo->{seq}, message_id => '');

my $el = $smpp->enquire_link();
ok($el && $el->{status} == 0, 'enquire_link answered');
my $ub = $smpp->unbind();
ok($ub && $ub->{status} == 0, 'unbind answered');
alarm 0;

kill 'TERM', $pid;
close $out;
open(my $lf, '<', $ledger) or die "no ledger: $!";
my $led = decode_json(do { local $/; <$lf> });
ok($led->{totals}{submit_sm_accepted} == 1, 'ledger: one submit accepted');
ok($led->{totals}{deliver_sm_acked} == 2, 'ledger: DR and MO acknowledged');
ok($led->{totals}{binds_refused} == 1, 'ledger: one bind refused');
ok(scalar(@{$led->{violations}}) == 0, 'ledger: no violations');

print "1..$n\n";
exit($failed ? 1 : 0);
