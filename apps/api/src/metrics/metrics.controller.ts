import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { Public } from '../auth/decorators';
import { RouteChecks } from '../auth/route-check';
import { MetricsAccessCheck } from './metrics-access';
import { ProblemResponse } from '../cases/problem-docs';
import { MetricsService } from './metrics.service';

@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Public()
  @RouteChecks(MetricsAccessCheck)
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics: process, HTTP requests, commands, event store appends',
    description:
      'No JWT. With METRICS_TOKEN set, send `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise); ' +
      'without it, only callers on the service\'s own machine (loopback) are answered (403 otherwise).',
  })
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, description: 'Prometheus text exposition format' })
  @ProblemResponse(401, 'METRICS_TOKEN is set and the request does not carry it')
  @ProblemResponse(403, 'METRICS_TOKEN is not set and the caller is not on this machine')
  scrape(): Promise<string> {
    return this.metrics.exposition();
  }
}
